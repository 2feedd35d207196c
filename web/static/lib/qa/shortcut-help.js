// The dialog listing the moderator console's keyboard shortcuts: opened by its button or by
// "?" anywhere but in a field; closing it gives the focus back to where it was.
import { isTyping } from "./moderation.js";

/** Opens ``dialog`` (a <dialog>) from ``button`` and the "?" key. */
export function bindShortcutHelp(dialog, button) {
  let before = null;
  const open = () => {
    if (dialog.open) return;
    before = document.activeElement;
    dialog.showModal();
  };
  dialog.addEventListener("close", () => before?.focus?.());
  button.addEventListener("click", open);
  document.addEventListener("keydown", (event) => {
    if (event.key === "?" && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target)) {
      event.preventDefault();
      open();
    }
  });
}
