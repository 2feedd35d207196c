// Keeps "streaming, N watching" current for the sessions on now, through their live topics.
import { pageRealtime } from "../lib/realtime.js";
import { nt, t } from "../lib/i18n.js";

function show(note, state) {
  note.hidden = state.state === "offline";
  if (state.state === "paused") note.textContent = t("· stream paused");
  else {
    note.textContent = state.viewers
      ? nt("· streaming, {count} watching", "· streaming, {count} watching", state.viewers)
      : t("· streaming");
  }
}

const items = [.../** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-live-session]"))];
if (items.length) {
  const realtime = pageRealtime();
  for (const item of items) {
    const note = item.querySelector("[data-stream-note]");
    realtime.subscribe(`session:${item.dataset.liveSession}:live`, {
      snapshot: (state) => show(note, state),
      event: (changes) => {
        for (const change of changes) if (change.type === "stream") show(note, change.stream);
      },
    });
  }
}
