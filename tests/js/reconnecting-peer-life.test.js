// node --test: the shared reconnecting peer's life against a fake RTCPeerConnection and a
// scripted server (fetch): offers, grace, drops, refusals, Retry-After, giving up, stopping.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";

import { ReconnectingPeer } from "../../web/static/lib/reconnecting-peer.js";

/** An RTCPeerConnection that never touches a network: the test sets its state. */
class FakePeer extends EventTarget {
  static made = [];
  connectionState = "new";
  iceGatheringState = "complete";
  localDescription = null;
  remoteDescription = null;
  closed = false;

  constructor() {
    super();
    FakePeer.made.push(this);
  }

  async createOffer() {
    return { type: "offer", sdp: `v=0 offer ${FakePeer.made.length}` };
  }

  async setLocalDescription(description) {
    this.localDescription = description;
  }

  async setRemoteDescription(description) {
    this.remoteDescription = description;
  }

  close() {
    this.closed = true;
    this.connectionState = "closed";
  }

  become(state) {
    this.connectionState = state;
    this.dispatchEvent(new Event("connectionstatechange"));
  }
}

/** The server: each POST takes the next scripted answer (201 with a new Location unless
 *  the script says otherwise); every request is recorded. */
class Server {
  requests = [];
  answers = [];
  #sessions = 0;

  fetch = async (url, init = {}) => {
    const method = init.method ?? "GET";
    this.requests.push({ method, url: String(url) });
    if (method === "DELETE") return new Response(null, { status: 200 });
    const scripted = this.answers.shift();
    if (scripted) return scripted();
    this.#sessions += 1;
    return new Response("v=0 answer", {
      status: 201,
      headers: { Location: `/whep/panel/${this.#sessions}`, "Content-Type": "application/sdp" },
    });
  };

  refuse(status, code, retryAfter = null) {
    const headers = { "Content-Type": "application/json" };
    if (retryAfter !== null) headers["Retry-After"] = String(retryAfter);
    this.answers.push(
      () => new Response(JSON.stringify({ error: { code, message: "no" } }), { status, headers }),
    );
  }

  offers() {
    return this.requests.filter((r) => r.method === "POST").length;
  }

  deletes() {
    return this.requests.filter((r) => r.method === "DELETE").map((r) => r.url);
  }
}

let server;

beforeEach(() => {
  FakePeer.made = [];
  server = new Server();
  globalThis.RTCPeerConnection = FakePeer;
  globalThis.fetch = server.fetch;
  globalThis.document = { querySelector: () => ({ content: "csrf" }) };
});

afterEach(() => {
  delete globalThis.RTCPeerConnection;
  delete globalThis.document;
});

/** Resolve once ``condition()`` holds; fail after ``ms``. */
async function until(condition, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${condition}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function peerWith(options = {}) {
  const reports = [];
  const peer = new ReconnectingPeer("/whep/panel", {
    setUp: () => {},
    report: (state, problem) => reports.push({ state, problem }),
    delays: [20, 40],
    graceMs: 30,
    ...options,
  });
  return { peer, reports, states: () => reports.map((r) => r.state) };
}

const last = (list) => list[list.length - 1];

test("an answered offer that connects is connected, and stop() DELETEs its session", async () => {
  const { peer, states } = peerWith();
  await peer.start();
  assert.equal(server.offers(), 1);
  assert.equal(peer.resource, "/whep/panel/1");
  FakePeer.made[0].become("connected");
  assert.deepEqual(states(), ["connecting", "connected"]);
  assert.equal(peer.wasConnected, true);
  await peer.stop();
  assert.deepEqual(server.deletes(), ["/whep/panel/1"]);
  assert.equal(FakePeer.made[0].closed, true);
  assert.equal(peer.state, "stopped");
});

test("a failed connection is offered again after the first wait, without a DELETE", async () => {
  const { peer, reports, states } = peerWith();
  await peer.start();
  FakePeer.made[0].become("connected");
  FakePeer.made[0].become("failed");
  const problem = last(reports).problem;
  assert.equal(last(states()), "reconnecting");
  assert.deepEqual([problem.kind, problem.after, problem.wasConnected], ["dropped", "failed", true]);
  await until(() => server.offers() === 2);
  assert.deepEqual(server.deletes(), []); // a failed connection ended on the server too
  FakePeer.made[1].become("connected");
  assert.equal(last(states()), "connected");
  await peer.stop();
});

test("a disconnected connection that comes back within its grace is not offered again", async () => {
  const { peer, states } = peerWith({ graceMs: 200 });
  await peer.start();
  const first = FakePeer.made[0];
  first.become("connected");
  first.become("disconnected");
  assert.equal(last(states()), "reconnecting");
  first.become("connected");
  await new Promise((resolve) => setTimeout(resolve, 250)); // the grace would have ended here
  assert.equal(server.offers(), 1);
  assert.equal(last(states()), "connected");
  await peer.stop();
});

test("after its grace a disconnected viewer's session is released and offered again at once", async () => {
  const { peer, reports } = peerWith({ delays: [5_000] });
  await peer.start();
  FakePeer.made[0].become("connected");
  FakePeer.made[0].become("disconnected");
  await until(() => server.offers() === 2, 1_000); // not the 5 s wait: it had its grace
  assert.deepEqual(server.deletes(), ["/whep/panel/1"]);
  assert.equal(reports.at(-1).problem.after, "disconnected");
  await peer.stop();
});

test("the server's Retry-After sets the wait, and nothing live yet is retried", async () => {
  server.refuse(409, "media.offline", 1);
  const { peer, reports } = peerWith({ delays: [10_000] });
  const started = Date.now();
  await peer.start();
  const refusal = reports.at(-1).problem;
  assert.deepEqual([refusal.kind, refusal.error.code], ["refused", "media.offline"]);
  await until(() => server.offers() === 2, 3_000);
  const waited = Date.now() - started;
  assert.ok(waited >= 900 && waited < 5_000, `waited ${waited} ms, Retry-After said 1 s`);
  await peer.stop();
});

test("a refusal that will not change stops it; running out of waits gives up", async () => {
  server.refuse(409, "media.cut");
  const cut = peerWith();
  await cut.peer.start();
  assert.equal(cut.peer.state, "failed");
  assert.equal(cut.reports.at(-1).problem.error.code, "media.cut");
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(server.offers(), 1);

  for (let i = 0; i < 3; i += 1) server.refuse(503, "media.node_unreachable");
  const tired = peerWith({ delays: [5, 5], giveUp: true });
  await tired.peer.start();
  await until(() => tired.peer.state === "failed");
  assert.equal(server.offers(), 1 + 3);
  assert.equal(tired.reports.at(-1).problem.kind, "gave-up");
});

test("a held publication is ended first when the server still holds it (409), then offered again", async () => {
  const { peer } = peerWith({ dropped: "hold" });
  await peer.start();
  FakePeer.made[0].become("connected");
  FakePeer.made[0].become("failed");
  assert.equal(peer.resource, "/whep/panel/1"); // held across the drop
  server.refuse(409, "media.already_live");
  await until(() => server.offers() === 3);
  assert.deepEqual(server.deletes(), ["/whep/panel/1"]);
  assert.equal(peer.resource, "/whep/panel/2");
  await peer.stop();
});

test("stopped while its offer is out, the session the server then makes is DELETEd", async () => {
  let answer;
  server.answers.push(() => new Promise((resolve) => (answer = resolve)));
  const { peer } = peerWith();
  const starting = peer.start();
  await until(() => answer !== undefined);
  const stopping = peer.stop();
  answer(new Response("v=0 answer", { status: 201, headers: { Location: "/whep/panel/late" } }));
  await Promise.all([starting, stopping]);
  await until(() => server.deletes().includes("/whep/panel/late"));
  assert.equal(FakePeer.made[0].closed, true);
});
