// node --test: the clock text every page shows (replay positions, break-out countdowns).
import assert from "node:assert/strict";
import { test } from "node:test";

import { clockText, countdownText } from "../../web/static/lib/time-format.js";

test("seconds read as a clock, hours only when there are any", () => {
  assert.equal(clockText(0), "0:00");
  assert.equal(clockText(65.9), "1:05");
  assert.equal(clockText(3599), "59:59");
  assert.equal(clockText(3600), "1:00:00");
  assert.equal(clockText(3729), "1:02:09");
});

test("never negative, never NaN", () => {
  assert.equal(clockText(-5), "0:00");
  assert.equal(clockText(Number.NaN), "0:00");
  assert.equal(clockText(Number.POSITIVE_INFINITY), "0:00");
});

test("a countdown rounds the milliseconds left up", () => {
  assert.equal(countdownText(1), "0:01");
  assert.equal(countdownText(245_000), "4:05");
  assert.equal(countdownText(-10), "0:00");
});
