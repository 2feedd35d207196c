// node --test: the break-out room's decisions (lib/breakouts/room-logic.js): whom to watch,
// the tiles and their order and captions, what a tile and the people list say, where the
// person belongs, the round's banners, the clock and the chat's messages.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  clockLook,
  clockTarget,
  gridCount,
  homeOf,
  initials,
  localTile,
  mediaProblem,
  notHere,
  personNotes,
  remoteTile,
  roomPeople,
  roundBanners,
  speakerOf,
  tileLabels,
  tileOrder,
  tileStatus,
  watchPlan,
  whereTo,
  withBanner,
  withMessages,
  withoutBanner,
} from "../../web/static/lib/breakouts/room-logic.js";

const member = (kinds = ["audio", "video"], extra = {}) => ({ kinds, muted: false, camera_off: false, ...extra });

function breakouts(overrides = {}) {
  return {
    phase: "open",
    ends_at: "2030-01-01T10:10:00Z",
    closes_at: null,
    warning: null,
    broadcasts: [],
    unassigned: [],
    rooms: [
      {
        room_id: "room-1",
        name: "Heat and cities",
        members: [{ id: "ann", name: "Ann Lindqvist" }, { id: "bo", name: "Bo Okafor" }],
        visitors: [],
        help: null,
      },
      { room_id: "room-2", name: "Water", members: [{ id: "cy", name: "Cy Tanaka" }], visitors: [], help: null },
    ],
    ...overrides,
  };
}

test("everyone else on the call is watched; whoever left the call is not", () => {
  const call = { ann: member(), bo: member(), cy: member() };
  assert.deepEqual(watchPlan(call, "ann", []), { stop: [], start: ["bo", "cy"] });
  assert.deepEqual(watchPlan(call, "ann", ["bo"]), { stop: [], start: ["cy"] });
  assert.deepEqual(watchPlan({ ann: member(), cy: member() }, "ann", new Map([["bo", 1], ["cy", 2]]).keys()), {
    stop: ["bo"],
    start: [],
  });
  assert.deepEqual(watchPlan({}, "ann", ["bo"]), { stop: ["bo"], start: [] });
  assert.deepEqual(watchPlan({ ann: member() }, "ann", []), { stop: [], start: [] }, "never oneself");
});

test("the people: members, then visiting moderators; the room topic's until the session's comes", () => {
  const state = breakouts();
  state.rooms[0].visitors = [{ id: "mod", name: "Mo Derator" }];
  assert.deepEqual(roomPeople(state, "room-1", null), [
    { id: "ann", name: "Ann Lindqvist", visitor: false },
    { id: "bo", name: "Bo Okafor", visitor: false },
    { id: "mod", name: "Mo Derator", visitor: true },
  ]);
  const view = { members: [{ id: "ann", name: "Ann" }], visitors: [] };
  assert.deepEqual(roomPeople(null, "room-1", view), [{ id: "ann", name: "Ann", visitor: false }]);
  assert.deepEqual(roomPeople(null, "room-1", null), []);
});

test("tiles: oneself first, then the room's people, then whoever is on the call unlisted", () => {
  const people = [
    { id: "bo", name: "Bo", visitor: false },
    { id: "ann", name: "Ann", visitor: false },
  ];
  assert.deepEqual(tileOrder("ann", people, { zed: member(), bo: member() }), ["ann", "bo", "zed"]);
  assert.deepEqual(tileOrder("ann", [], {}), ["ann"]);
  assert.equal(gridCount(1), 1);
  assert.equal(gridCount(14), 10);
});

test("a tile keeps its caption until its person shows up under another name", () => {
  const start = new Map([["ann", { name: "Ann", visitor: true }]]);
  let labels = tileLabels(["ann", "zed"], [], start, "ann", "Ann");
  assert.deepEqual(labels.get("ann"), { name: "Ann", visitor: true });
  assert.deepEqual(labels.get("zed"), { name: "Someone", visitor: false });
  const people = [
    { id: "ann", name: "Ann", visitor: false },
    { id: "zed", name: "Zed Ng", visitor: true },
  ];
  labels = tileLabels(["ann", "zed"], people, labels, "ann", "Ann");
  assert.deepEqual(labels.get("ann"), { name: "Ann", visitor: true }, "same name: unchanged");
  assert.deepEqual(labels.get("zed"), { name: "Zed Ng", visitor: true });
  labels = tileLabels(["ann", "zed"], [people[0]], labels, "ann", "Ann");
  assert.deepEqual(labels.get("zed"), { name: "Zed Ng", visitor: true }, "off the list: keeps the name");
  labels = tileLabels(["ann"], [people[0]], labels, "ann", "Ann");
  assert.equal(labels.has("zed"), false, "gone from the grid: forgotten");
});

test("a member's tile follows the call and the watcher", () => {
  assert.deepEqual(remoteTile(undefined, undefined, false), {
    muted: false,
    cameraOff: false,
    speaking: false,
    connection: "offline",
  });
  assert.deepEqual(remoteTile(member(["audio", "video"]), undefined, true), {
    muted: false,
    cameraOff: false,
    speaking: true,
    connection: "connecting",
  });
  assert.deepEqual(remoteTile(member(["audio"], { muted: true }), "live", false), {
    muted: true,
    cameraOff: true,
    speaking: false,
    connection: "live",
  });
  assert.equal(remoteTile(member(["video"]), "reconnecting", false).muted, true, "sends no sound");
  assert.equal(tileStatus("offline", false), "Not on the call yet");
  assert.equal(tileStatus("offline", true), "Not sending: no camera or microphone");
  assert.equal(tileStatus("elsewhere", true), "On the call in another tab");
  assert.equal(tileStatus("live", false), "");
});

test("one's own tile: starting, sending, refused, or in another tab", () => {
  const base = { muted: false, cameraOff: false, publishing: "connecting", dormant: false, speaking: false };
  assert.deepEqual(localTile({ ...base, local: null, mediaStarting: true }), {
    muted: false,
    cameraOff: false,
    speaking: false,
    connection: "connecting",
  });
  assert.deepEqual(localTile({ ...base, local: null, mediaStarting: false }), {
    muted: true,
    cameraOff: true,
    speaking: false,
    connection: "offline",
  });
  assert.deepEqual(
    localTile({ ...base, local: { audio: true, video: false }, mediaStarting: false, publishing: "live", speaking: true }),
    { muted: false, cameraOff: true, speaking: true, connection: "live" },
  );
  assert.equal(
    localTile({ ...base, local: { audio: true, video: true }, muted: true, mediaStarting: false, speaking: true }).speaking,
    false,
    "muted: not shown speaking",
  );
  assert.equal(localTile({ ...base, local: null, mediaStarting: false, dormant: true }).connection, "elsewhere");
});

test("nobody is highlighted as speaking while alone on the call", () => {
  assert.equal(speakerOf({ members: { ann: member() }, speaker: "ann" }), null);
  assert.equal(speakerOf({ members: { ann: member(), bo: member() }, speaker: "bo" }), "bo");
  assert.equal(speakerOf({ members: { ann: member(), bo: member() }, speaker: null }), null);
});

test("the people list's notes", () => {
  const call = { members: { ann: member(), bo: member(["audio"], { muted: true }) }, speaker: null };
  assert.deepEqual(personNotes({ id: "ann", visitor: false }, call, "ann"), ["you"]);
  assert.deepEqual(personNotes({ id: "bo", visitor: false }, call, "ann"), ["muted"]);
  assert.deepEqual(personNotes({ id: "cy", visitor: true }, call, "ann"), ["moderator", "not on the call"]);
  assert.deepEqual(personNotes({ id: "ann", visitor: true }, { members: {}, speaker: null }, "ann"), [
    "you",
    "moderator",
  ]);
});

test("where the person belongs: here, home when the rooms close or they left, another room", () => {
  const where = { me: "ann", roomId: "room-1", code: "panel", home: "/sessions/panel" };
  assert.equal(whereTo(breakouts(), where), null);
  assert.equal(whereTo(breakouts({ phase: "closing" }), where), null);
  assert.deepEqual(whereTo(breakouts({ phase: "closed" }), where), {
    url: "/sessions/panel",
    message: "The break-out rooms have closed. Back to the main session…",
  });
  assert.equal(whereTo(breakouts({ phase: "planning" }), where).url, "/sessions/panel");
  assert.deepEqual(whereTo(breakouts(), { ...where, me: "nobody" }), {
    url: "/sessions/panel",
    message: "You are no longer in a break-out room. Back to the main session…",
  });
  assert.deepEqual(whereTo(breakouts(), { ...where, me: "cy" }), {
    url: "/sessions/panel/breakouts/room-2",
    message: "You were moved to Water. Taking you there…",
  });
  const visited = breakouts();
  visited.rooms[1].visitors = [{ id: "ann", name: "Ann" }];
  assert.equal(whereTo(visited, where).url, "/sessions/panel/breakouts/room-2", "a visit comes first");
  assert.equal(homeOf("panel", false), "/sessions/panel");
  assert.equal(homeOf("panel", true), "/sessions/panel/moderate#breakouts");
});

test("banners: one per kind, replaced in place, new ones at the end", () => {
  let banners = withBanner([], { kind: "help", text: "a" });
  banners = withBanner(banners, { kind: "broadcast", text: "b", at: "t" });
  banners = withBanner(banners, { kind: "help", text: "c" });
  assert.deepEqual(banners, [
    { kind: "help", text: "c" },
    { kind: "broadcast", text: "b", at: "t" },
  ]);
  assert.deepEqual(withoutBanner(banners, "help"), [{ kind: "broadcast", text: "b", at: "t" }]);
  assert.equal(withoutBanner(banners, "warning"), banners, "nothing to drop: the same list");
});

test("the round's banners: warning, more time, closing", () => {
  const until = (iso) => (iso ? Date.parse(iso) - Date.parse("2030-01-01T10:00:00Z") : null);
  const open = breakouts();
  let round = roundBanners([], null, open, null, until);
  assert.deepEqual(round, { banners: [], warningShown: null });

  const warned = breakouts({ warning: 5, ends_at: "2030-01-01T10:05:00Z" });
  round = roundBanners(round.banners, open, warned, round.warningShown, until);
  assert.deepEqual(round, { banners: [{ kind: "warning", text: "5 minutes left in this room." }], warningShown: 5 });
  assert.deepEqual(roundBanners(round.banners, warned, warned, 5, until).banners, round.banners, "shown once");

  const extended = breakouts({ ends_at: "2030-01-01T10:12:00Z" });
  round = roundBanners(round.banners, warned, extended, round.warningShown, until);
  assert.deepEqual(round.banners, [{ kind: "extended", text: "The moderators gave the rooms more time: 12 minutes left." }]);
  assert.equal(round.warningShown, null);

  const closing = breakouts({ phase: "closing", closes_at: "2030-01-01T10:00:30Z" });
  round = roundBanners(round.banners, extended, closing, round.warningShown, until);
  assert.deepEqual(round.banners, [
    { kind: "closing", text: "The rooms are closing. You go back to the main session in 30 seconds." },
  ]);
  assert.deepEqual(roundBanners(round.banners, closing, closing, null, until).banners, round.banners);
  assert.deepEqual(roundBanners(round.banners, closing, open, null, until).banners, [], "reopened: gone");
});

test("the clock counts down to the end of the round, then to the rooms' closing", () => {
  assert.equal(clockTarget(breakouts()), "2030-01-01T10:10:00Z");
  assert.equal(clockTarget(breakouts({ phase: "closing", closes_at: "x" })), "x");
  assert.deepEqual(clockLook(breakouts(), 120000), { label: "Time left", state: "open" });
  assert.deepEqual(clockLook(breakouts(), 60000), { label: "Time left", state: "warning" });
  assert.deepEqual(clockLook(breakouts({ warning: 5 }), 240000), { label: "Time left", state: "warning" });
  assert.deepEqual(clockLook(breakouts({ phase: "closing" }), 5000), {
    label: "Back to the main session in",
    state: "closing",
  });
});

test("chat: messages already shown are not added again; new ones go at the end", () => {
  const a = { id: "m1", text: "a" };
  const b = { id: "m2", text: "b" };
  const c = { id: "m3", text: "c" };
  const shown = [a, b];
  assert.equal(withMessages(shown, [a, b]), shown, "nothing new: the same list");
  assert.deepEqual(withMessages(shown, [a, b, c, c]), [a, b, c]);
  assert.deepEqual(withMessages([], [c, a]), [c, a]);
});

test("initials, refusals and media problems", () => {
  assert.equal(initials("Ann Lindqvist"), "AL");
  assert.equal(initials("  cy  "), "CY");
  assert.equal(initials("Åsa van der Berg"), "ÅB");
  assert.equal(initials("   "), "?");
  assert.equal(notHere({ status: 403 }), true);
  assert.equal(notHere({ status: 409, code: "breakouts.wrong_phase" }), true);
  assert.equal(notHere({ status: 503 }), false);
  assert.match(mediaProblem({ name: "NotAllowedError" }), /blocks the camera/);
  assert.equal(mediaProblem({ name: "NotFoundError" }), "No camera or microphone was found.");
  assert.equal(mediaProblem({ name: "Weird", message: "boom" }), "Your camera and microphone could not start (boom).");
});
