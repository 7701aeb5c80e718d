import assert from "node:assert/strict";
import { test } from "node:test";

import { delaySecondsUntil } from "../src/attempt-queue.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { DEFAULT_RETRY_DELAYS_SECONDS, delayAfterAttempt, maxAttempts, parseRetrySchedule } from "../src/retry-schedule.js";
import { deliveryIdFor, MESSAGE_ID } from "../src/webhook-id.js";

test("the default schedule is Svix's: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
  assert.deepEqual(DEFAULT_RETRY_DELAYS_SECONDS, [5, 300, 1800, 7200, 18000, 36000, 36000]);
  assert.equal(maxAttempts(DEFAULT_RETRY_DELAYS_SECONDS), 8);
  assert.equal(delayAfterAttempt(DEFAULT_RETRY_DELAYS_SECONDS, 1), 5);
  assert.equal(delayAfterAttempt(DEFAULT_RETRY_DELAYS_SECONDS, 7), 36000);
  assert.equal(delayAfterAttempt(DEFAULT_RETRY_DELAYS_SECONDS, 8), null);
  assert.equal(parseRetrySchedule(undefined), DEFAULT_RETRY_DELAYS_SECONDS);
  assert.equal(parseRetrySchedule(" "), DEFAULT_RETRY_DELAYS_SECONDS);
});

test("WEBHOOKS_RETRY_SCHEDULE overrides it; nonsense is refused", () => {
  assert.deepEqual(parseRetrySchedule("0, 1,2"), [0, 1, 2]);
  assert.equal(delayAfterAttempt(parseRetrySchedule("1,1"), 3), null);
  for (const bad of ["1,,2", "-1", "1.5", "a", "99999999", Array.from({ length: 51 }, () => "1").join(",")]) {
    assert.throws(() => parseRetrySchedule(bad), RangeError, bad);
  }
});

test("an attempt's deadline is 5 s; WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS may shorten it, never lengthen it", () => {
  const env = { WEBHOOKS_TABLE: "t", WEBHOOKS_QUEUE_URL: "http://127.0.0.1:1/q" };
  assert.equal(loadConfig(env).attemptTimeoutMs, 5000);
  assert.equal(loadConfig({ ...env, WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS: " " }).attemptTimeoutMs, 5000);
  assert.equal(loadConfig({ ...env, WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS: "1" }).attemptTimeoutMs, 1000);
  for (const bad of ["0", "6", "30", "1.5", "-1", "a"]) {
    assert.throws(() => loadConfig({ ...env, WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS: bad }), ConfigError, bad);
  }
});

test("SQS delays: at most 900 s, never negative", () => {
  assert.equal(delaySecondsUntil(1000, 1000), 0);
  assert.equal(delaySecondsUntil(900, 1000), 0);
  assert.equal(delaySecondsUntil(1300, 1000), 300);
  assert.equal(delaySecondsUntil(1000 + 5 * 3600, 1000), 900);
});

test("the webhook-id is stable per (event, endpoint) and differs otherwise", () => {
  const event = { job_id: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", seq: 3, type: "job.succeeded" as const };
  const id = deliveryIdFor(event, "ep_1");
  assert.match(id, MESSAGE_ID);
  assert.equal(deliveryIdFor({ ...event }, "ep_1"), id);
  assert.notEqual(deliveryIdFor(event, "ep_2"), id);
  assert.notEqual(deliveryIdFor({ ...event, seq: 4 }, "ep_1"), id);
  assert.notEqual(deliveryIdFor({ ...event, type: "job.failed" }, "ep_1"), id);
});
