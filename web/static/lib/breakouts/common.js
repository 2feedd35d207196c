// What every break-out view shares (the session page's card, the room page and the moderator
// console): the round's clock against the server's, countdowns, who is where, the moderators'
// message banner.
// Every text from a participant goes into the page with textContent, never as HTML.
import { countdownText } from "../time-format.js";
import { ApiError } from "../api.js";
import { clock, el } from "../dom.js";
import { nt, t } from "../i18n.js";

/** The page's connection as its label says it ("live", "reconnecting", "connecting"). */
export function connectionText(status) {
  switch (status) {
    case "live": return t("Live");
    case "reconnecting": return t("Reconnecting…");
    default: return t("Connecting…");
  }
}

/** The room ``participantId`` is in: the one a moderator visits, else the one they are
 *  assigned to (as the server decides who may enter a room). */
export function roomOf(state, participantId) {
  if (!state || !participantId) return null;
  const visited = state.rooms.find((room) => room.visitors.some((v) => v.id === participantId));
  const member = state.rooms.find((room) => room.members.some((m) => m.id === participantId));
  return (visited ?? member)?.room_id ?? null;
}

export function inPool(state, participantId) {
  if (!state || !participantId) return false;
  return state.unassigned.some((p) => p.id === participantId)
    || state.rooms.some((room) => room.members.some((m) => m.id === participantId));
}

export function roomById(state, roomId) {
  return state?.rooms.find((room) => room.room_id === roomId) ?? null;
}

export function placesLeft(room) {
  return Math.max(0, room.capacity - room.members.length);
}

export { countdownText as formatCountdown };

/** ``ms`` as words for people and screen readers: "12 minutes", "45 seconds". */
export function spokenDuration(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  if (seconds < 60) return nt("{count} second", "{count} seconds", seconds);
  return nt("{count} minute", "{count} minutes", Math.ceil(seconds / 60));
}

/** The server's time, as near as its Date header tells (whole seconds): a countdown on a
 *  laptop whose clock is a minute off still ends when the server's round does. */
export class ServerClock {
  #offset = 0;

  now() {
    return Date.now() + this.#offset;
  }

  /** Milliseconds from now until the ISO instant ``iso`` (null when there is none). */
  until(iso) {
    return iso ? Date.parse(iso) - this.now() : null;
  }

  observe(response, sentAt, receivedAt) {
    const date = Date.parse(response.headers.get("Date") ?? "");
    if (Number.isNaN(date)) return;
    const offset = date + 500 - (sentAt + receivedAt) / 2;
    this.#offset = Math.abs(offset) > 1500 ? offset : 0;
  }
}

/** GET the session's break-outs (snapshot and ``you``), setting ``serverClock`` on the way. */
export async function loadBreakouts(code, serverClock) {
  const sentAt = Date.now();
  let response;
  try {
    response = await fetch(`/api/sessions/${code}/breakouts`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError("network", t("The server cannot be reached. Check your connection and try again."), 0);
  }
  serverClock?.observe(response, sentAt, Date.now());
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(body?.error?.code ?? `http.${response.status}`, body?.error?.message ?? t("Try again."), response.status);
  }
  return body;
}

/** Re-render ``render()`` inside ``root`` and give focus back to the control that had it,
 *  found again by its data-focus-key (a re-render replaces the elements). */
export function keepingFocus(root, render) {
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  const key = root.contains(active) ? active?.dataset?.focusKey : undefined;
  render();
  if (key === undefined) return;
  const again = root.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
  if (again && !again.disabled) again.focus();
}

/** A moderators' message as a dismissible banner. */
export function broadcastBanner(text, at, onDismiss) {
  const dismiss = el("button", { type: "button", class: "secondary banner-dismiss", text: t("Dismiss") });
  dismiss.setAttribute("aria-label", t("Dismiss the message from the moderators"));
  const when = at ? el("time", { datetime: at, text: clock.format(new Date(at)) }) : null;
  const banner = el(
    "div",
    { class: "bo-banner bo-banner-broadcast", "data-broadcast-at": at ?? "" },
    el("p", { class: "bo-banner-title" }, el("strong", { text: t("Message from the moderators") }), when ? " · " : null, when),
    el("p", { class: "bo-banner-text", text }),
    dismiss,
  );
  dismiss.addEventListener("click", () => {
    banner.remove();
    onDismiss?.();
  });
  return banner;
}
