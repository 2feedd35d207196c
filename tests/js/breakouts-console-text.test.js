// node --test: the words of the moderator console's break-outs panel and its plan's rows and checks.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  PlanError,
  planRowsFrom,
  planWording,
  poolText,
  readPlan,
  recentBroadcasts,
  summary,
} from "../../web/static/lib/breakouts/console-text.js";

const person = (id, online = true) => ({ id, name: id, online });
const room = (id, members = [], extra = {}) => ({
  room_id: id, name: id, topic: "", capacity: 4, members, visitors: [], help: null, ...extra,
});
const round = (extra) => ({ planned: true, phase: "planning", rooms: [], unassigned: [], broadcasts: [], ...extra });

test("who is taking part, who waits and who is offline", () => {
  assert.equal(poolText(round({})), "Nobody takes part yet: participants join from the session page.");
  assert.equal(
    poolText(round({ unassigned: [person("a"), person("b"), person("c")] })),
    "3 people taking part · 3 not in a room",
  );
  assert.equal(
    poolText(round({ unassigned: [person("a"), person("b", false)] })),
    "1 person online taking part · 1 not in a room · 1 offline (their page is closed)",
  );
  assert.equal(
    poolText(round({ rooms: [room("room-1", [person("a")])], unassigned: [person("b", false)] })),
    "1 person online taking part · everyone online has a room · 1 offline (their page is closed)",
  );
  assert.equal(poolText(round({ rooms: [room("room-1", [person("a")])] })), "1 person taking part · everyone has a room");
});

test("the summary follows the phase", () => {
  assert.equal(summary(round({ planned: false })), "No rooms yet. Plan them below; participants see them on the session page.");
  const rooms = [room("room-1", [person("a")]), room("room-2")];
  assert.equal(summary(round({ rooms, unassigned: [person("b")] })), "2 rooms planned · 2 people taking part, 1 not in a room yet.");
  assert.equal(summary(round({ rooms, phase: "open", unassigned: [person("b", false)] })), "2 rooms open · 1 person online taking part, 1 offline.");
  assert.match(summary(round({ rooms, phase: "closing" })), /^The rooms are closing/);
  assert.equal(summary(round({ rooms, phase: "closed" })), "The last round of 2 rooms is over. Plan a new round below.");
});

test("the plan form's wording", () => {
  assert.deepEqual(planWording(round({ planned: false })), { heading: "Plan the rooms", submit: "Create the rooms" });
  assert.deepEqual(planWording(round({})), { heading: "Change the rooms", submit: "Save the changes" });
  assert.deepEqual(planWording(round({ phase: "closed" })), { heading: "Plan a new round", submit: "Create the rooms" });
});

test("the last five messages, newest first", () => {
  const broadcasts = Array.from({ length: 7 }, (_, i) => ({ at: `t${i}`, text: `m${i}` }));
  assert.deepEqual(recentBroadcasts(round({ broadcasts })).map((m) => m.text), ["m6", "m5", "m4", "m3", "m2"]);
});

test("plan rows: two default rooms before any plan, keys kept across updates", () => {
  let n = 0;
  const newKey = () => `k${++n}`;
  const first = planRowsFrom(round({ planned: false }), [], newKey);
  assert.deepEqual(first.map((r) => [r.key, r.room_id, r.name, r.capacity]), [["k1", "", "Room 1", "12"], ["k2", "", "Room 2", "12"]]);
  assert.deepEqual(planRowsFrom(round({ planned: false }), first, newKey).map((r) => r.key), ["k1", "k2"]);

  const saved = [{ ...first[0], room_id: "room-1" }, { ...first[1], room_id: "room-2" }];
  const state = round({ rooms: [room("room-2", [], { topic: "Shade" }), room("room-3")] });
  const rows = planRowsFrom(state, saved, newKey);
  assert.deepEqual(rows.map((r) => [r.key, r.room_id, r.topic, r.capacity]), [["k2", "room-2", "Shade", "4"], ["k3", "room-3", "", "4"]]);
});

test("a plan is checked and fresh rooms get free ids", () => {
  const row = (room_id, name, capacity = "12", topic = "") => ({ key: name, room_id, name, topic, capacity });
  assert.deepEqual(readPlan([row("room-1", " Heat "), row("", "Roofs", "6", " Paint "), row("", "Trees")], "manual"), {
    rooms: [
      { room_id: "room-1", name: "Heat", topic: "", capacity: 12 },
      { room_id: "room-2", name: "Roofs", topic: "Paint", capacity: 6 },
      { room_id: "room-3", name: "Trees", topic: "", capacity: 12 },
    ],
    assignment: "manual",
  });
  assert.throws(() => readPlan([row("", "A"), row("", "  ")], "auto"), (error) => {
    assert.ok(error instanceof PlanError);
    assert.equal(error.message, "Room 2 needs a name.");
    assert.equal(error.index, 1);
    assert.equal(error.field, "name");
    return true;
  });
  for (const seats of ["1", "51", "2.5", ""]) {
    assert.throws(() => readPlan([row("", "A", seats)], "auto"), { message: "Room 1 seats between 2 and 50 people.", field: "capacity" });
  }
});
