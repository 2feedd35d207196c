// The break-out room's decisions, apart from the page: who is in the room, which tiles the
// grid shows and in what order, whom to watch, what each tile says, where the person now
// belongs, and which banners the round's changes bring. Pure functions (node --test covers
// them); room-session.js, room-call.js and the views apply them.
import { roomById, roomOf, spokenDuration } from "./common.js";
import { t } from "../i18n.js";

/** A tile's status line for each connection state (empty when live). */
export function tileStatus(connection, local) {
  return {
    connecting: t("Connecting…"),
    reconnecting: t("Reconnecting…"),
    offline: local ? t("Not sending: no camera or microphone") : t("Not on the call yet"),
    elsewhere: t("On the call in another tab"),
    live: "",
  }[connection];
}

/** One or two letters for a tile without a picture: "Ann Lindqvist" → "AL". */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean).map((word) => [...word]);
  if (!words.length) return "?";
  const letters = words.length > 1 ? [words[0][0], words[words.length - 1][0]] : words[0].slice(0, 2);
  return letters.join("").toUpperCase();
}

/** Why the camera and microphone did not start, for people. */
export function mediaProblem(error) {
  switch (error?.name) {
    case "NotAllowedError":
      return t("Your browser blocks the camera and microphone for this site. Allow them (the icon in the address bar) and reload the page.");
    case "NotFoundError":
    case "OverconstrainedError":
      return t("No camera or microphone was found.");
    case "NotReadableError":
      return t("Your camera or microphone is busy in another application.");
    default:
      return error?.message
        ? t("Your camera and microphone could not start ({reason}).", { reason: error.message })
        : t("Your camera and microphone could not start.");
  }
}

/** The server refused this person the room (moved, or the rooms closed): look again where
 *  they belong instead of offering again. */
export function notHere(error) {
  return error?.status === 403 || error?.status === 404 || error?.code === "breakouts.wrong_phase";
}

/** Everyone in the room, members first, then visiting moderators: from the session's
 *  snapshot, else from the room topic's (``roomView``); none before either. */
export function roomPeople(state, roomId, roomView) {
  const room = roomById(state, roomId) ?? roomView;
  if (!room) return [];
  return [
    ...room.members.map((person) => ({ id: person.id, name: person.name, visitor: false })),
    ...room.visitors.map((person) => ({ id: person.id, name: person.name, visitor: true })),
  ];
}

/** The grid's tiles in order: this person first, then the room's people, then whoever is on
 *  the call without being listed (yet). */
export function tileOrder(me, people, callMembers) {
  const order = new Set([me]);
  for (const person of people) order.add(person.id);
  for (const id of Object.keys(callMembers ?? {})) order.add(id);
  return [...order];
}

/**
 * What each tile is captioned with. A tile keeps its caption until its person shows up under
 * another name (someone on the call but not in the room's list keeps the name they had, or is
 * "Someone"); tiles gone from ``order`` are forgotten.
 * @param {string[]} order
 * @param {{id: string, name: string, visitor: boolean}[]} people
 * @param {Map<string, {name: string, visitor: boolean}>} previous
 * @returns {Map<string, {name: string, visitor: boolean}>}
 */
export function tileLabels(order, people, previous, me, myName) {
  const known = new Map(people.map((person) => [person.id, person]));
  const labels = new Map();
  for (const id of order) {
    const before = previous.get(id);
    const person = known.get(id);
    if (person && person.name !== before?.name) labels.set(id, { name: person.name, visitor: person.visitor });
    else if (before) labels.set(id, before);
    else labels.set(id, { name: id === me ? myName : t("Someone"), visitor: false });
  }
  return labels;
}

/** How many columns' worth the grid is styled for. */
export function gridCount(tiles) {
  return Math.min(tiles, 10);
}

/** Which watchers to stop and start so that this person watches everyone else on the call
 *  (``watching``: whom they watch now). */
export function watchPlan(callMembers, me, watching) {
  const publishing = new Set(Object.keys(callMembers ?? {}).filter((id) => id !== me));
  const current = new Set(watching);
  return {
    stop: [...current].filter((id) => !publishing.has(id)),
    start: [...publishing].filter((id) => !current.has(id)),
  };
}

/** Who is highlighted as speaking: nobody while this person is alone on the call. */
export function speakerOf(call) {
  return call.speaker && Object.keys(call.members).length > 1 ? call.speaker : null;
}

/** What another member's tile shows, from the call's state and the watcher's connection. */
export function remoteTile(member, watching, speaking) {
  return {
    muted: Boolean(member?.muted) || (member ? !member.kinds.includes("audio") : false),
    cameraOff: Boolean(member?.camera_off) || (member ? !member.kinds.includes("video") : false),
    speaking,
    connection: member ? watching ?? "connecting" : "offline",
  };
}

/** What this person's own tile shows. ``local``: the kinds of tracks they send, null when
 *  there is no stream (not started yet, refused, or the call went to another tab). */
export function localTile({ local, muted, cameraOff, mediaStarting, publishing, dormant, speaking }) {
  return {
    muted: local ? muted || !local.audio : !mediaStarting,
    cameraOff: local ? cameraOff || !local.video : !mediaStarting,
    speaking: speaking && !muted,
    connection: dormant ? "elsewhere" : local ? publishing : mediaStarting ? "connecting" : "offline",
  };
}

/** The notes after a name in the people list: "(you, moderator)", "(not on the call)". */
export function personNotes(person, call, me) {
  const member = call.members[person.id];
  const notes = [];
  if (person.id === me) notes.push(t("you"));
  if (person.visitor) notes.push(t("moderator"));
  if (person.id !== me && !member) notes.push(t("not on the call"));
  else if (member?.muted) notes.push(t("muted"));
  return notes;
}

/**
 * Where this person belongs now, given the session's break-outs: null while it is this
 * room, else where to go and what to tell them on the way.
 * @returns {{url: string, message: string} | null}
 */
export function whereTo(state, { me, roomId, code, home }) {
  if (state.phase === "closed" || state.phase === "planning") {
    return { url: home, message: t("The break-out rooms have closed. Back to the main session…") };
  }
  const room = roomOf(state, me);
  if (room === null) {
    return { url: home, message: t("You are no longer in a break-out room. Back to the main session…") };
  }
  if (room !== roomId) {
    const name = roomById(state, room)?.name;
    const message = name
      ? t("You were moved to {room}. Taking you there…", { room: name })
      : t("You were moved to another room. Taking you there…");
    return { url: `/sessions/${code}/breakouts/${room}`, message };
  }
  return null;
}

/** Where the room page goes when the room is over: a visiting moderator back to the console. */
export function homeOf(code, visiting) {
  return visiting ? `/sessions/${code}/moderate#breakouts` : `/sessions/${code}`;
}

/**
 * @typedef {{kind: string, text: string, at?: string}} Banner a banner of the room: one per
 *   kind, in the order they first came
 */

/** ``banners`` with ``banner`` in the place of the one of its kind, or added at the end.
 *  @param {Banner[]} banners @param {Banner} banner @returns {Banner[]} */
export function withBanner(banners, banner) {
  const at = banners.findIndex((b) => b.kind === banner.kind);
  if (at < 0) return [...banners, banner];
  return banners.map((b, i) => (i === at ? banner : b));
}

/** @param {Banner[]} banners @returns {Banner[]} */
export function withoutBanner(banners, kind) {
  return banners.some((b) => b.kind === kind) ? banners.filter((b) => b.kind !== kind) : banners;
}

/**
 * The banners after a new snapshot of the round (``previous``: the one before, null for the
 * first): closing, more time, the last minutes' warning. ``until(iso)`` is the time left on
 * the server's clock.
 * @param {Banner[]} banners
 * @returns {{banners: Banner[], warningShown: number | null}}
 */
export function roundBanners(banners, previous, state, warningShown, until) {
  const closing = state.phase === "closing";
  if (closing && previous?.phase !== "closing") {
    const left = until(state.closes_at) ?? 0;
    banners = withoutBanner(withoutBanner(banners, "warning"), "extended");
    banners = withBanner(banners, {
      kind: "closing",
      text: t("The rooms are closing. You go back to the main session in {duration}.", { duration: spokenDuration(left) }),
    });
  } else if (!closing) {
    banners = withoutBanner(banners, "closing");
    const extended = previous && ["open", "closing"].includes(previous.phase)
      && Date.parse(state.ends_at) > Date.parse(previous.ends_at ?? 0) + 1000;
    if (extended) {
      const left = until(state.ends_at) ?? 0;
      banners = withBanner(banners, {
        kind: "extended",
        text: t("The moderators gave the rooms more time: {duration} left.", { duration: spokenDuration(left) }),
      });
    }
  }
  if (state.warning && state.warning !== warningShown && !closing) {
    banners = withoutBanner(banners, "extended");
    const left = until(state.ends_at) ?? state.warning * 60000;
    banners = withBanner(banners, { kind: "warning", text: t("{duration} left in this room.", { duration: spokenDuration(left) }) });
  } else if (!state.warning) {
    banners = withoutBanner(banners, "warning");
  }
  return { banners, warningShown: state.warning };
}

/** The round's clock: what it counts down to and how it looks, ``left`` ms before then. */
export function clockLook(state, left) {
  const closing = state.phase === "closing";
  return {
    label: closing ? t("Back to the main session in") : t("Time left"),
    state: closing ? "closing" : state.warning || left <= 60000 ? "warning" : "open",
  };
}

/** The instant the clock counts down to. */
export function clockTarget(state) {
  return state.phase === "closing" ? state.closes_at : state.ends_at;
}

/** The chat's messages with those of ``incoming`` it has not got yet appended, in the order
 *  they came (the socket's snapshot repeats what the page already shows). */
export function withMessages(messages, incoming) {
  const seen = new Set(messages.map((message) => message.id));
  const added = [];
  for (const message of incoming) {
    if (seen.has(message.id)) continue;
    seen.add(message.id);
    added.push(message);
  }
  return added.length ? [...messages, ...added] : messages;
}
