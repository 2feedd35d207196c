// On an ended session's page: once its recordings are published, the "its replay will
// appear here" line becomes links to the replays (from the public archive's JSON).
import { api } from "../lib/api.js";
import { el } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

/** A same-origin path for one of the archive's absolute URLs. */
export function pathOf(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return `${parsed.pathname}${parsed.search}${parsed.hash}`;
  } catch {
    return url;
  }
}

export function recordingsOf(recordings, code, guid) {
  return recordings
    .filter((r) => r.session_code === code || (guid && r.session_guid === guid))
    .sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
}

function replayLink(recording, index, count) {
  const label = count === 1 ? t("Watch the replay") : t("Watch part {n} of {count}", { n: index + 1, count });
  const poster = recording.poster_url
    ? el("img", { src: pathOf(recording.poster_url), alt: "", width: "160", height: "90", loading: "lazy" })
    : null;
  return el(
    "li",
    {},
    el(
      "a",
      { href: pathOf(recording.page_url), class: "session-replay", "data-replay-link": recording.id },
      poster,
      el("span", { text: label }),
      el("span", { class: "session-replay-duration", text: ` (${recording.duration})` }),
    ),
  );
}

async function showReplays(slot) {
  let data;
  try {
    data = await api("/api/recordings");
  } catch {
    return; // the line keeps saying the replay will appear
  }
  const mine = recordingsOf(data?.recordings ?? [], slot.dataset.sessionCode, slot.dataset.sessionGuid);
  if (!mine.length) return;
  const box = el(
    "div",
    { class: "session-replays", "data-session-replays-list": "" },
    el("p", { text: mine.length === 1 ? t("This session has ended. Its replay is ready:") : t("This session has ended. Its replays are ready:") }),
    el("ul", { class: "plain session-replay-list" }, ...mine.map((r, i) => replayLink(r, i, mine.length))),
    el("p", { class: "session-replays-more" }, el("a", { href: "/archive", text: t("More in the archive") })),
  );
  slot.replaceWith(box);
}

const slot = document.querySelector("[data-session-replays]");
if (slot) showReplays(slot);
