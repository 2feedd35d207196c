// Focus across a live update of the moderator console's break-outs panel. Keyed diffing keeps
// most elements (and so their focus), but a person moved to another room gets a new select in
// the other room's card: this hook gives focus back to the control with the same
// data-focus-key when the one that had it left the page during the update.
import { useLayoutEffect } from "../html.js";

/** Call in a component's render; ``ref`` holds the element around the controls. */
export function useFocusKept(ref) {
  const root = ref.current;
  const active = document.activeElement;
  const key = root && active instanceof HTMLElement && root.contains(active) ? active.dataset.focusKey : undefined;
  useLayoutEffect(() => {
    if (key === undefined || !ref.current) return;
    const now = document.activeElement;
    if (now && now !== document.body) return; // still focused, or the moderator moved on
    const again = /** @type {HTMLButtonElement | null} */ (
      ref.current.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)
    );
    if (again && !again.disabled) again.focus();
  });
}
