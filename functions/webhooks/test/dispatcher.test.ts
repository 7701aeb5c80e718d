// The delivery engine with an in-memory store and a fake POST: leases, schedules, re-queueing.
import assert from "node:assert/strict";
import { test } from "node:test";

import type { JobEvent } from "../src/contracts/job_event.js";
import { Dispatcher, type DispatcherDeps } from "../src/dispatcher.js";
import type { AttemptMessage } from "../src/queue-messages.js";
import type { AttemptOutcome, SignedPost } from "../src/webhook-post.js";
import { MemoryWebhookStore } from "./support/memory-store.js";

const EVENT: JobEvent = {
  type: "job.succeeded", job_id: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", owner: "7", seq: 9, task: "demo", status: "succeeded", progress: 100, at: "2026-01-02T03:04:05Z",
};

async function setup(
  outcomes: AttemptOutcome[],
  options: { delayMs?: number; disableAfterSeconds?: number; owner?: string; attemptTimeoutMs?: number } = {},
) {
  const store = new MemoryWebhookStore();
  await store.createEndpoint(
    { id: "ep_1", owner: options.owner ?? "7", url: "https://hooks.example/", description: "", event_types: ["job.succeeded"], status: "active", created_at: "2026-01-01T00:00:00Z", failing_since: null, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
    20,
  );
  const posts: SignedPost[] = [];
  const queued: Omit<AttemptMessage, "kind">[] = [];
  const deps: DispatcherDeps = {
    store,
    queue: { schedule: (message) => { queued.push(message); return Promise.resolve(); } },
    post: async (post) => {
      posts.push(post);
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
      return outcomes.shift() ?? { statusCode: 200, latencyMs: 1, error: null };
    },
    fetchResult: () => Promise.reject(new Error("no result_url here")),
    retryDelaysSeconds: [60, 600],
    attemptTimeoutMs: options.attemptTimeoutMs,
    disableAfterSeconds: options.disableAfterSeconds ?? 3600,
    allowedUrls: [],
    log: () => undefined,
  };
  return { store, posts, queued, dispatcher: new Dispatcher(deps) };
}

test("each attempt is given the configured deadline, or none (the post's own 5 s)", async () => {
  const configured = await setup([], { attemptTimeoutMs: 1000 });
  await configured.dispatcher.handleJobEvent(EVENT);
  assert.deepEqual(configured.posts.map((post) => post.timeoutMs), [1000]);
  const unset = await setup([]);
  await unset.dispatcher.handleJobEvent(EVENT);
  assert.deepEqual(unset.posts.map((post) => post.timeoutMs), [undefined]);
});

test("two concurrent copies of one job event POST once (the lease)", async () => {
  const { posts, dispatcher } = await setup([], { delayMs: 50 });
  await Promise.all([dispatcher.handleJobEvent(EVENT), dispatcher.handleJobEvent(EVENT)]);
  assert.equal(posts.length, 1);
  await dispatcher.handleJobEvent(EVENT); // after success: nothing
  assert.equal(posts.length, 1);
});

test("a failure schedules the next attempt; an early attempt message is re-queued, not attempted", async () => {
  const { posts, queued, store, dispatcher } = await setup([{ statusCode: null, latencyMs: 5000, error: "timeout" }]);
  await dispatcher.handleJobEvent(EVENT);
  assert.equal(queued.length, 1);
  const next = queued[0];
  assert.ok(next !== undefined);
  assert.equal(next.attempt, 2);
  const [delivery] = await store.listDeliveries("ep_1", 1);
  assert.deepEqual([delivery?.status, delivery?.attempts.map((attempt) => attempt.error)], ["retrying", ["timeout"]]);
  await dispatcher.handleAttemptMessage({ kind: "attempt", ...next });
  assert.equal(posts.length, 1, "not due yet: re-queued");
  assert.equal(queued.length, 2);
  await dispatcher.handleAttemptMessage({ kind: "attempt", ...next, due_at: 0 });
  assert.equal(posts.length, 2);
  await dispatcher.handleAttemptMessage({ kind: "attempt", ...next, due_at: 0 }); // a copy: dropped
  assert.equal(posts.length, 2);
});

test("an endpoint failing longer than WEBHOOKS_DISABLE_AFTER_SECONDS is disabled and gets no more attempts", async () => {
  const failure: AttemptOutcome = { statusCode: 500, latencyMs: 1, error: "http_500" };
  const { store, posts, dispatcher } = await setup([failure, failure], { disableAfterSeconds: 0 });
  await dispatcher.handleJobEvent(EVENT);
  assert.equal((await store.getEndpoint("7", "ep_1"))?.status, "disabled");
  await dispatcher.handleJobEvent({ ...EVENT, seq: 10 });
  assert.equal(posts.length, 1);
});

test("owners are opaque strings: a UUID-keyed user's event reaches that user's endpoint only", async () => {
  // Django's user model may be keyed by UUID (or any key): the event's owner is that key as text.
  const owner = "0b0e7a52-5d3c-4c1e-9f3a-3f1f2b6c8d11";
  const { posts, dispatcher } = await setup([], { owner });
  await dispatcher.handleJobEvent(EVENT); // owner "7": not this endpoint's
  assert.equal(posts.length, 0);
  await dispatcher.handleJobEvent({ ...EVENT, owner });
  assert.equal(posts.length, 1);
});
