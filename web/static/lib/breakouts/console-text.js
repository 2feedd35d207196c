// The moderator console's break-outs panel, its pure part: the words it shows for a snapshot
// of the round (phase, summary, who is taking part) and the plan being edited (its rows from
// the server's rooms, and the checks before it is sent). No DOM here: node tests it.
import { nt, t } from "../i18n.js";

/** The round's phase as the panel's badge names it. */
export function phaseName(phase) {
  switch (phase) {
    case "planning": return t("Planning");
    case "open": return t("Open");
    case "closing": return t("Closing");
    default: return t("Closed");
  }
}

/** What the live region says when the round moves to a phase. */
export function phaseAnnouncement(phase) {
  switch (phase) {
    case "planning": return t("Planning new break-out rooms.");
    case "open": return t("The break-out rooms are open.");
    case "closing": return t("The break-out rooms are closing.");
    default: return t("The break-out rooms are closed. Everyone is back in the main session.");
  }
}

/** How people get their rooms, for the plan's hint. */
export function modeHint(assignment) {
  switch (assignment) {
    case "manual": return t("You place each person yourself (Assign automatically still helps as a start).");
    case "self": return t("Participants pick a room on the session page, as long as it has free seats.");
    default: return t("Everyone who takes part is dealt into the rooms at random, evenly; late arrivals join the emptiest room.");
  }
}

export const DEFAULT_ROWS = 2;
export const DEFAULT_CAPACITY = 12;
export const MAX_ROOMS = 50;

/** "3 people taking part", or "3 people online taking part" when some are offline. */
function takingPart(count, someOffline) {
  return someOffline
    ? nt("{count} person online taking part", "{count} people online taking part", count)
    : nt("{count} person taking part", "{count} people taking part", count);
}

export function isRunning(state) {
  return state?.phase === "open" || state?.phase === "closing";
}

/** Everyone taking part: those in a room and those not in one yet. */
export function poolSize(state) {
  return state.unassigned.length + state.rooms.reduce((sum, room) => sum + room.members.length, 0);
}

/** Pool members whose page closed: they are not dealt into rooms until they come back. */
export function offlineCount(state) {
  const everyone = [...state.unassigned, ...state.rooms.flatMap((room) => room.members)];
  return everyone.filter((person) => person.online === false).length;
}

function waitingOnline(state) {
  return state.unassigned.filter((person) => person.online !== false).length;
}

/** The line under the panel's heading. */
export function summary(state) {
  if (!state.planned) return t("No rooms yet. Plan them below; participants see them on the session page.");
  const count = state.rooms.length;
  const offline = offlineCount(state);
  const waiting = waitingOnline(state);
  // Facts joined as a list: "2 rooms planned · 2 people taking part, 1 not in a room yet."
  const facts = [takingPart(poolSize(state) - offline, offline > 0)];
  if (waiting) facts.push(nt("{count} not in a room yet", "{count} not in a room yet", waiting));
  if (offline) facts.push(nt("{count} offline", "{count} offline", offline));
  const list = facts.join(", ");
  let rooms;
  switch (state.phase) {
    case "planning":
      rooms = nt("{count} room planned", "{count} rooms planned", count);
      return t("{rooms} · {list}.", { rooms, list });
    case "open":
      rooms = nt("{count} room open", "{count} rooms open", count);
      return t("{rooms} · {list}.", { rooms, list });
    case "closing":
      return t("The rooms are closing: everyone returns to the main session when the countdown ends.");
    default:
      return nt(
        "The last round of {count} room is over. Plan a new round below.",
        "The last round of {count} rooms is over. Plan a new round below.",
        count,
      );
  }
}

/** The line over the room cards: "3 people taking part · 3 not in a room". */
export function poolText(state) {
  const size = poolSize(state);
  if (!size) return t("Nobody takes part yet: participants join from the session page.");
  const offline = offlineCount(state);
  const online = size - offline;
  const waiting = waitingOnline(state);
  const facts = [takingPart(online, offline > 0)];
  if (waiting) facts.push(nt("{count} not in a room", "{count} not in a room", waiting));
  else if (online) facts.push(offline ? t("everyone online has a room") : t("everyone has a room"));
  if (offline) facts.push(nt("{count} offline (their page is closed)", "{count} offline (their page is closed)", offline));
  return facts.join(" · ");
}

/** The plan form's heading and submit button for the round's phase. */
export function planWording(state) {
  if (state.phase === "closed") return { heading: t("Plan a new round"), submit: t("Create the rooms") };
  return state.planned
    ? { heading: t("Change the rooms"), submit: t("Save the changes") }
    : { heading: t("Plan the rooms"), submit: t("Create the rooms") };
}

/** The last five messages sent to every room, newest first. */
export function recentBroadcasts(state) {
  return [...state.broadcasts].reverse().slice(0, 5);
}

/**
 * A plan row: the fields as typed (strings) under a key that stays with the row while the
 * moderator edits and across live updates of the same room.
 * @typedef {{ key: string, room_id: string, name: string, topic: string, capacity: string }} PlanRow
 */

/** A fresh row for the plan: "Room 3" with the default seats. */
export function newPlanRow(key, index) {
  return { key, room_id: "", name: t("Room {n}", { n: index + 1 }), topic: "", capacity: String(DEFAULT_CAPACITY) };
}

/**
 * The plan's rows for the server's rooms (two default rows before any plan). A row keeps the
 * key of the row it replaces (the same room, or the same place among rooms not saved yet);
 * ``newKey()`` names the others.
 * @param {any} state
 * @param {PlanRow[]} previous
 * @param {() => string} newKey
 * @returns {PlanRow[]}
 */
export function planRowsFrom(state, previous, newKey) {
  const byRoom = new Map(previous.filter((row) => row.room_id).map((row) => [row.room_id, row.key]));
  const unsaved = previous.filter((row) => !row.room_id).map((row) => row.key);
  const rooms = state.planned
    ? state.rooms
    : Array.from({ length: DEFAULT_ROWS }, (_, index) => newPlanRow("", index));
  let fresh = 0;
  return rooms.map((room) => ({
    key: (room.room_id ? byRoom.get(room.room_id) : unsaved[fresh++]) ?? newKey(),
    room_id: room.room_id,
    name: room.name,
    topic: room.topic ?? "",
    capacity: String(room.capacity),
  }));
}

/** Why a plan cannot be sent: the message and the field to fix. */
export class PlanError extends Error {
  constructor(message, index, field) {
    super(message);
    this.index = index;
    this.field = field;
  }
}

/**
 * The plan to send from the rows as typed: names and topics trimmed, seats a whole number
 * from 2 to 50, and rooms not saved yet get the first free "room-N" ids.
 * @param {PlanRow[]} rows
 * @param {string} assignment
 * @throws {PlanError} naming the first field to fix
 */
export function readPlan(rows, assignment) {
  const used = new Set(rows.map((row) => row.room_id).filter(Boolean));
  let next = 1;
  const freshId = () => {
    while (used.has(`room-${next}`)) next += 1;
    used.add(`room-${next}`);
    return `room-${next}`;
  };
  const rooms = [];
  for (const [index, row] of rows.entries()) {
    if (!row.name.trim()) throw new PlanError(t("Room {n} needs a name.", { n: index + 1 }), index, "name");
    const seats = Number(row.capacity);
    if (!Number.isInteger(seats) || seats < 2 || seats > 50) {
      throw new PlanError(t("Room {n} seats between 2 and 50 people.", { n: index + 1 }), index, "capacity");
    }
    rooms.push({ room_id: row.room_id || freshId(), name: row.name.trim(), topic: row.topic.trim(), capacity: seats });
  }
  return { rooms, assignment: assignment || "auto" };
}
