// node --test: the moderator console's rules (lib/qa/moderation.js): the tabs' order and
// counts, the actions each state offers, the keys, the tab stop, and how changes apply.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  actionsFor,
  afterAction,
  applyChange,
  countsOf,
  emptyText,
  fromSnapshot,
  keyCommand,
  manualOrder,
  mergeTargets,
  pickCurrent,
  queueOf,
  shorten,
  stepCurrent,
  votes,
  withNote,
} from "../../web/static/lib/qa/moderation.js";

function question(id, fields = {}) {
  return {
    id,
    text: `Question ${id}?`,
    author: "Ann",
    state: "pending",
    votes: 0,
    starred: false,
    position: null,
    merged_into: null,
    asked_at: "2025-05-01T10:00:00Z",
    history: [],
    ...fields,
  };
}

const ids = (questions) => questions.map((q) => q.id);

test("placed questions come first, then starred, most votes, oldest, id", () => {
  const questions = [
    question("e", { asked_at: "2025-05-01T10:05:00Z" }),
    question("d", { votes: 3 }),
    question("c", { starred: true }),
    question("b", { position: 2 }),
    question("a", { position: 1 }),
    question("f", { asked_at: "2025-05-01T10:05:00Z" }),
  ];
  assert.deepEqual(ids(questions.sort(manualOrder)), ["a", "b", "c", "d", "e", "f"]);
});

test("each tab shows its state; starred leaves merged questions out", () => {
  const questions = [
    question("p"),
    question("v", { state: "visible", starred: true }),
    question("m", { state: "archived", starred: true, merged_into: "v" }),
    question("x", { state: "dismissed" }),
  ];
  assert.deepEqual(ids(queueOf(questions, "pending")), ["p"]);
  assert.deepEqual(ids(queueOf(questions, "starred")), ["v"]);
  assert.deepEqual(countsOf(questions), { pending: 1, visible: 1, answered: 0, archived: 1, dismissed: 1, starred: 1 });
  assert.equal(emptyText("visible"), "No live questions.");
  assert.equal(emptyText("answered"), "No answered questions.");
});

test("the actions follow the question's state", () => {
  const names = (q, highlighted = false) => actionsFor(q, highlighted).map((a) => a.action);
  assert.deepEqual(names(question("p")), ["approve", "answer", "dismiss", "archive", "star", "edit", "merge"]);
  assert.deepEqual(names(question("v", { state: "visible" })), ["highlight", "answer", "dismiss", "archive", "star", "edit", "merge"]);
  assert.deepEqual(names(question("v", { state: "visible", starred: true }), true), ["unhighlight", "answer", "dismiss", "archive", "unstar", "edit", "merge"]);
  assert.deepEqual(names(question("a", { state: "answered" })), ["restore", "archive", "star", "edit", "merge"]);
  assert.deepEqual(names(question("r", { state: "archived" })), ["restore", "star", "edit"]);
  assert.deepEqual(names(question("d", { state: "dismissed" })), ["approve", "archive", "star", "edit", "merge"]);
  assert.deepEqual(names(question("m", { state: "archived", merged_into: "v" })), []);
});

test("a button's focus key, title and pressed state", () => {
  const [highlight, , , archive, star, , merge] = actionsFor(question("q1", { state: "visible" }), false);
  const [unhighlight, , , , unstar] = actionsFor(question("q1", { state: "visible", starred: true }), true);
  assert.equal(highlight.focusKey, "highlight:q1");
  assert.equal(unhighlight.focusKey, "highlight:q1");
  assert.equal(star.focusKey, "star:q1");
  assert.equal(unstar.focusKey, "star:q1");
  assert.equal(star.pressed, "false");
  assert.equal(unstar.pressed, "true");
  assert.equal(highlight.pressed, null);
  assert.equal(highlight.title, "Show on screen (H)");
  assert.equal(merge.title, "Merge (M)");
  assert.equal(merge.label, "Merge…");
  assert.equal(archive.key, null);
  assert.equal(archive.title, null);
});

test("keys", () => {
  assert.deepEqual(keyCommand("j"), { move: 1 });
  assert.deepEqual(keyCommand("ArrowUp"), { move: -1 });
  assert.deepEqual(keyCommand("a"), { act: "approve" });
  assert.deepEqual(keyCommand("d"), { act: "dismiss" });
  assert.deepEqual(keyCommand("x"), { act: "answer" });
  assert.deepEqual(keyCommand("r"), { act: "restore" });
  assert.deepEqual(keyCommand("h"), { toggle: ["highlight", "unhighlight"] });
  assert.deepEqual(keyCommand("s"), { toggle: ["star", "unstar"] });
  assert.deepEqual(keyCommand("e"), { open: "edit" });
  assert.deepEqual(keyCommand("m"), { open: "merge" });
  assert.equal(keyCommand("A"), null);
  assert.equal(keyCommand("?"), null);
});

test("the tab stop stays on its question, or goes to the one now in its place", () => {
  assert.deepEqual(pickCurrent(["a", "b", "c"], { id: null, index: 0 }), { id: "a", index: 0 });
  assert.deepEqual(pickCurrent(["a", "b", "c"], { id: "c", index: 0 }), { id: "c", index: 2 });
  assert.deepEqual(pickCurrent(["a", "c"], { id: "b", index: 1 }), { id: "c", index: 1 });
  assert.deepEqual(pickCurrent(["a"], { id: "b", index: 1 }), { id: "a", index: 1 });
  assert.deepEqual(pickCurrent([], { id: "b", index: 1 }), { id: null, index: 1 });
  assert.deepEqual(stepCurrent(["a", "b"], "a", 1), { id: "b", index: 1 });
  assert.deepEqual(stepCurrent(["a", "b"], "b", 1), { id: "b", index: 1 });
  assert.deepEqual(stepCurrent(["a", "b"], "a", -1), { id: "a", index: 0 });
  assert.deepEqual(stepCurrent(["a", "b"], "gone", 1), { id: "b", index: 1 });
  assert.equal(stepCurrent([], null, 1), null);
});

test("merge targets are the other open questions, most votes first", () => {
  const questions = [
    question("self", { votes: 9 }),
    question("v", { state: "visible", votes: 1 }),
    question("a", { state: "answered", votes: 5 }),
    question("p", { votes: 2 }),
    question("gone", { state: "archived", votes: 7 }),
    question("x", { state: "dismissed", votes: 7 }),
    question("m", { state: "visible", merged_into: "v", votes: 8 }),
  ];
  assert.deepEqual(ids(mergeTargets(questions, "self")), ["a", "p", "v"]);
});

test("texts are cut by characters, votes counted", () => {
  assert.equal(shorten("short"), "short");
  assert.equal(shorten("abcdef", 4), "abc…");
  assert.equal(shorten("😀😀😀😀😀", 4), "😀😀😀…");
  assert.equal(votes(0), "0 votes");
  assert.equal(votes(1), "1 vote");
  assert.equal(votes(2), "2 votes");
});

test("the topic's changes make a new state", () => {
  const before = fromSnapshot({
    questions: [question("a"), question("b", { state: "visible", votes: 1 })],
    notes: [{ id: "n1", text: "Hi" }],
    highlighted: null,
    settings: { open: true, moderation: "pre" },
  });
  let state = applyChange(before, { type: "question", question: question("a", { state: "visible" }) });
  state = applyChange(state, { type: "votes", votes: { b: 4, unknown: 2 } });
  state = applyChange(state, { type: "highlight", question: question("b") });
  state = applyChange(state, { type: "settings", open: false, moderation: "post" });
  state = applyChange(state, { type: "note", note: { id: "n2", text: "Two" } });
  state = applyChange(state, { type: "note", note: { id: "n2", text: "Two" } });
  state = applyChange(state, { type: "unknown" });
  assert.equal(state.questions.get("a").state, "visible");
  assert.equal(state.questions.get("b").votes, 4);
  assert.equal(state.questions.has("unknown"), false);
  assert.equal(state.highlighted, "b");
  assert.deepEqual(state.settings, { open: false, moderation: "post" });
  assert.deepEqual(state.notes.map((n) => n.id), ["n1", "n2"]);
  assert.equal(applyChange(state, { type: "highlight", question: null }).highlighted, null);
  assert.equal(before.questions.get("a").state, "pending");
  assert.equal(before.questions.get("b").votes, 1);
  assert.equal(withNote(state, { id: "n1" }), state);
});

test("what is on screen follows the console's own actions", () => {
  const state = fromSnapshot({
    questions: [question("a", { state: "visible" }), question("b", { state: "visible" })],
    notes: [],
    highlighted: "a",
    settings: null,
  });
  assert.equal(afterAction(state, "b", "highlight", question("b", { state: "visible" })).highlighted, "b");
  assert.equal(afterAction(state, "a", "unhighlight", question("a", { state: "visible" })).highlighted, null);
  assert.equal(afterAction(state, "a", "answer", question("a", { state: "answered" })).highlighted, null);
  assert.equal(afterAction(state, "a", "star", question("a", { state: "visible", starred: true })).highlighted, "a");
  assert.equal(afterAction(state, "b", "answer", question("b", { state: "answered" })).highlighted, "a");
  assert.equal(afterAction(state, "b", "answer", question("b", { state: "answered" })).questions.get("b").state, "answered");
});
