// node --test: what the shared reconnecting peer does about each kind of problem by default.
import assert from "node:assert/strict";
import { test } from "node:test";

import { defaultVerdict, isTransient } from "../../web/static/lib/reconnecting-peer.js";
import { SignalingError } from "../../web/static/lib/webrtc.js";

const refused = (status, code) => ({
  kind: "refused",
  error: new SignalingError(status, code, "no"),
  wasConnected: false,
});

test("unreachable servers and server failures are worth another offer", () => {
  assert.equal(isTransient(new SignalingError(0, "network", "down")), true);
  assert.equal(isTransient(new SignalingError(503, "media.node_unreachable", "later")), true);
  assert.equal(isTransient(new SignalingError(409, "media.already_live", "taken")), false);
  assert.equal(isTransient(new Error("not from the server")), false);
});

test("drops and transient refusals retry; nothing live yet retries; the rest stop", () => {
  for (const kind of ["dropped", "disconnected", "unreachable"]) {
    assert.equal(defaultVerdict({ kind, wasConnected: true }), "retry");
  }
  assert.equal(defaultVerdict(refused(503, "media.node_unreachable")), "retry");
  assert.equal(defaultVerdict(refused(409, "media.offline")), "retry");
  assert.equal(defaultVerdict(refused(409, "media.cut")), "stop");
  assert.equal(defaultVerdict(refused(403, "auth.forbidden")), "stop");
  assert.equal(defaultVerdict(refused(422, "media.sdp_unusable")), "stop");
});
