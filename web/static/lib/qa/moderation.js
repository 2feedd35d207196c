// The moderator console's rules, without the DOM: which questions each tab shows and in
// what order, which actions a question offers, what a key does, and how the moderation
// topic's snapshot and changes, and the answers to the console's own actions, change what
// it knows.
import { nt, t } from "../i18n.js";

/** The tabs of the queue: which questions each one shows. */
export const FILTERS = {
  pending: (q) => q.state === "pending",
  visible: (q) => q.state === "visible",
  answered: (q) => q.state === "answered",
  archived: (q) => q.state === "archived",
  dismissed: (q) => q.state === "dismissed",
  starred: (q) => q.starred && !q.merged_into,
};

/** A question's state as its badge names it. */
export function stateLabel(state) {
  switch (state) {
    case "pending": return t("Pending");
    case "visible": return t("Live");
    case "answered": return t("Answered");
    case "archived": return t("Archived");
    case "dismissed": return t("Dismissed");
    default: return state;
  }
}

/** What the status line says once an action went through. */
export function doneText(action) {
  switch (action) {
    case "approve": return t("Approved.");
    case "dismiss": return t("Dismissed.");
    case "answer": return t("Marked answered.");
    case "highlight": return t("On screen now.");
    case "unhighlight": return t("Taken off screen.");
    case "archive": return t("Archived.");
    case "restore": return t("Restored to the live queue.");
    case "star": return t("Starred.");
    case "unstar": return t("Star removed.");
    case "edit": return t("Text saved.");
    case "merge": return t("Merged.");
    default: return "";
  }
}

const KEYS = { a: "approve", d: "dismiss", x: "answer", r: "restore" };
const FOCUS_KEYS = { unstar: "star", unhighlight: "highlight" }; // a toggle keeps its focus

/** True while ``target`` is a field the moderator types in (keys are theirs, not shortcuts). */
export function isTyping(target) {
  return Boolean(target.closest?.("input, textarea, select, [contenteditable]:not([contenteditable='false'])"));
}

/** What a key pressed on a question does, or null: {move: ±1}, {act}, {toggle: [on, off]}
 *  or {open: "edit" | "merge"}. */
export function keyCommand(key) {
  if (key === "j" || key === "ArrowDown") return { move: 1 };
  if (key === "k" || key === "ArrowUp") return { move: -1 };
  if (KEYS[key]) return { act: KEYS[key] };
  if (key === "h") return { toggle: ["highlight", "unhighlight"] };
  if (key === "s") return { toggle: ["star", "unstar"] };
  if (key === "e") return { open: "edit" };
  if (key === "m") return { open: "merge" };
  return null;
}

/** The moderators' order: placed questions first by position, then starred, most votes,
 *  oldest. */
export function manualOrder(a, b) {
  const placed = (q) => (q.position === null ? 1 : 0);
  return placed(a) - placed(b)
    || (a.position ?? 0) - (b.position ?? 0)
    || Number(b.starred) - Number(a.starred)
    || b.votes - a.votes
    || Date.parse(a.asked_at) - Date.parse(b.asked_at)
    || a.id.localeCompare(b.id);
}

/** The questions tab ``filter`` shows, in the moderators' order. */
export function queueOf(questions, filter) {
  return [...questions].filter(FILTERS[filter]).sort(manualOrder);
}

/** How many questions each tab holds. */
export function countsOf(questions) {
  const all = [...questions];
  return Object.fromEntries(Object.entries(FILTERS).map(([key, matches]) => [key, all.filter(matches).length]));
}

export function pendingCount(questions) {
  return [...questions].filter(FILTERS.pending).length;
}

/** What an empty tab says. */
export function emptyText(filter) {
  switch (filter) {
    case "pending": return t("No pending questions.");
    case "visible": return t("No live questions.");
    case "answered": return t("No answered questions.");
    case "archived": return t("No archived questions.");
    case "dismissed": return t("No dismissed questions.");
    default: return t("No starred questions.");
  }
}

/** ``text`` cut to ``length`` characters (not UTF-16 units), with an ellipsis when cut. */
export function shorten(text, length = 90) {
  const chars = [...text];
  return chars.length > length ? `${chars.slice(0, length - 1).join("")}…` : text;
}

export function votes(count) {
  return nt("{count} vote", "{count} votes", count);
}

/** The buttons a question offers in its state: {action, label, key, focusKey, title, pressed}.
 *  ``focusKey`` names the control across renders (a toggle's two actions share one). */
export function actionsFor(question, highlighted) {
  if (question.merged_into) return [];
  const { state } = question;
  const list = [];
  if (state === "pending" || state === "dismissed") list.push(["approve", t("Approve"), "a"]);
  if (state === "visible") {
    list.push(highlighted ? ["unhighlight", t("Take off screen"), "h"] : ["highlight", t("Show on screen"), "h"]);
  }
  if (state === "pending" || state === "visible") list.push(["answer", t("Mark answered"), "x"], ["dismiss", t("Dismiss"), "d"]);
  if (state === "answered" || state === "archived") list.push(["restore", t("Restore"), "r"]);
  if (state !== "archived") list.push(["archive", t("Archive"), null]);
  list.push([question.starred ? "unstar" : "star", t("Star"), "s"], ["edit", t("Edit"), "e"]);
  if (state !== "archived") list.push(["merge", t("Merge…"), "m"]);
  return list.map(([action, label, key]) => ({
    action,
    label,
    key,
    focusKey: `${FOCUS_KEYS[action] ?? action}:${question.id}`,
    title: key ? `${label.replace("…", "")} (${key.toUpperCase()})` : null,
    pressed: action === "star" || action === "unstar" ? String(question.starred) : null,
  }));
}

/** The open questions ``id`` may be merged into, most votes first. */
export function mergeTargets(questions, id) {
  return [...questions]
    .filter((q) => q.id !== id && !q.merged_into && ["pending", "visible", "answered"].includes(q.state))
    .sort((a, b) => b.votes - a.votes);
}

/** Which question of ``ids`` (the tab's, in order) has the queue's tab stop: the one it had
 *  while it is still shown, else the one now at its place (or the last). */
export function pickCurrent(ids, { id, index }) {
  const at = ids.indexOf(id);
  if (at >= 0) return { id, index: at };
  return { id: ids[Math.min(index, ids.length - 1)] ?? null, index };
}

/** The question ``step`` places after the current one in ``ids``, clamped to the ends. */
export function stepCurrent(ids, id, step) {
  if (ids.length === 0) return null;
  const index = Math.max(0, ids.indexOf(id));
  const next = Math.min(ids.length - 1, Math.max(0, index + step));
  return { id: ids[next], index: next };
}

// -- what the console knows -------------------------------------------------------------

/** The moderation topic's snapshot as the console keeps it. */
export function fromSnapshot(snapshot) {
  return {
    questions: new Map(snapshot.questions.map((q) => [q.id, q])),
    notes: snapshot.notes,
    highlighted: snapshot.highlighted,
    settings: snapshot.settings,
  };
}

/** ``state`` after one change of the moderation topic (a new state; ``state`` is kept). */
export function applyChange(state, change) {
  switch (change.type) {
    case "question":
      return { ...state, questions: new Map(state.questions).set(change.question.id, change.question) };
    case "votes": {
      const questions = new Map(state.questions);
      for (const [id, count] of Object.entries(change.votes)) {
        const question = questions.get(id);
        if (question) questions.set(id, { ...question, votes: count });
      }
      return { ...state, questions };
    }
    case "highlight":
      return { ...state, highlighted: change.question?.id ?? null };
    case "settings":
      return { ...state, settings: { open: change.open, moderation: change.moderation } };
    case "note":
      return withNote(state, change.note);
    default:
      return state;
  }
}

/** ``state`` with ``note`` added, unless it is there already. */
export function withNote(state, note) {
  if (state.notes.some((known) => known.id === note.id)) return state;
  return { ...state, notes: [...state.notes, note] };
}

/** ``state`` once the server answered the console's ``action`` on question ``id`` with
 *  ``question``: what is on screen follows it. */
export function afterAction(state, id, action, question) {
  let { highlighted } = state;
  if (action === "highlight") highlighted = id;
  else if (highlighted === id && (action === "unhighlight" || question.state !== "visible")) highlighted = null;
  return { ...state, questions: new Map(state.questions).set(id, question), highlighted };
}
