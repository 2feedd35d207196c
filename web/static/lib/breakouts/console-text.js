// The moderator console's break-outs panel, its pure part: the words it shows for a snapshot
// of the round (phase, summary, who is taking part) and the plan being edited (its rows from
// the server's rooms, and the checks before it is sent). No DOM here: node tests it.
import { plural } from "./common.js";

export const PHASES = { planning: "Planning", open: "Open", closing: "Closing", closed: "Closed" };

/** What the live region says when the round moves to a phase. */
export const PHASE_ANNOUNCEMENTS = {
  planning: "Planning new break-out rooms.",
  open: "The break-out rooms are open.",
  closing: "The break-out rooms are closing.",
  closed: "The break-out rooms are closed. Everyone is back in the main session.",
};

export const MODE_HINTS = {
  auto: "Everyone who takes part is dealt into the rooms at random, evenly; late arrivals join the emptiest room.",
  manual: "You place each person yourself (Assign automatically still helps as a start).",
  self: "Participants pick a room on the session page, as long as it has free seats.",
};

export const DEFAULT_ROWS = 2;
export const DEFAULT_CAPACITY = 12;
export const MAX_ROOMS = 50;

export function people(count) {
  return count === 1 ? "1 person" : `${count} people`;
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
  if (!state.planned) return "No rooms yet. Plan them below; participants see them on the session page.";
  const rooms = plural(state.rooms.length, "room");
  const offline = offlineCount(state);
  const waiting = waitingOnline(state);
  const taking = `${people(poolSize(state) - offline)}${offline ? " online" : ""} taking part`;
  const rest = (waiting ? `, ${waiting} not in a room yet` : "") + (offline ? `, ${offline} offline` : "");
  switch (state.phase) {
    case "planning":
      return `${rooms} planned · ${taking}${rest}.`;
    case "open":
      return `${rooms} open · ${taking}${rest}.`;
    case "closing":
      return "The rooms are closing: everyone returns to the main session when the countdown ends.";
    default:
      return `The last round of ${rooms} is over. Plan a new round below.`;
  }
}

/** The line over the room cards: "3 people taking part · 3 not in a room". */
export function poolText(state) {
  const size = poolSize(state);
  if (!size) return "Nobody takes part yet: participants join from the session page.";
  const offline = offlineCount(state);
  const online = size - offline;
  const waiting = waitingOnline(state);
  return `${people(online)}${offline ? " online" : ""} taking part`
    + (waiting ? ` · ${waiting} not in a room` : online ? ` · everyone${offline ? " online" : ""} has a room` : "")
    + (offline ? ` · ${offline} offline (their page is closed)` : "");
}

/** The plan form's heading and submit button for the round's phase. */
export function planWording(state) {
  if (state.phase === "closed") return { heading: "Plan a new round", submit: "Create the rooms" };
  return state.planned
    ? { heading: "Change the rooms", submit: "Save the changes" }
    : { heading: "Plan the rooms", submit: "Create the rooms" };
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
  return { key, room_id: "", name: `Room ${index + 1}`, topic: "", capacity: String(DEFAULT_CAPACITY) };
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
    if (!row.name.trim()) throw new PlanError(`Room ${index + 1} needs a name.`, index, "name");
    const seats = Number(row.capacity);
    if (!Number.isInteger(seats) || seats < 2 || seats > 50) {
      throw new PlanError(`Room ${index + 1} seats between 2 and 50 people.`, index, "capacity");
    }
    rooms.push({ room_id: row.room_id || freshId(), name: row.name.trim(), topic: row.topic.trim(), capacity: seats });
  }
  return { rooms, assignment: assignment || "auto" };
}
