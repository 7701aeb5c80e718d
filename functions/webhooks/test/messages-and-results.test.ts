// Queue message shapes, result_url resolution, and one attempt's limits (timeout, refused, large answers).
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import { parseQueueMessage, PoisonMessage, type PoisonReason } from "../src/queue-messages.js";
import { ResultFetchFailed, resultUrlUnder } from "../src/result-fetch.js";
import { parseAllowedUrls } from "../src/ssrf.js";
import { postSigned } from "../src/webhook-post.js";

const EVENT = { type: "job.progress", job_id: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", owner: "7", seq: 2, task: "t", status: "running", progress: 40, at: "2026-01-02T03:04:05Z" };

test("queue messages: a job event, an SNS envelope of one, an attempt", () => {
  assert.deepEqual(parseQueueMessage(JSON.stringify(EVENT)), { kind: "job_event", event: EVENT });
  assert.deepEqual(parseQueueMessage(JSON.stringify({ Type: "Notification", Message: JSON.stringify(EVENT) })), { kind: "job_event", event: EVENT });
  const attempt = { kind: "attempt", delivery_id: `msg_${"a".repeat(32)}`, attempt: 2, due_at: 1 };
  assert.deepEqual(parseQueueMessage(JSON.stringify(attempt)), attempt);
});

test("queue messages: poison has a reason", () => {
  const cases: [string, PoisonReason][] = [
    ["{", "not_json"],
    [JSON.stringify({ ...EVENT, progress: 101 }), "invalid_job_event"],
    [JSON.stringify({ ...EVENT, at: "yesterday" }), "invalid_job_event"],
    [JSON.stringify({ ...EVENT, job_id: "not-a-uuid" }), "invalid_job_event"],
    [JSON.stringify({ ...EVENT, extra: 1 }), "invalid_job_event"],
    [JSON.stringify({ kind: "attempt", delivery_id: "msg_x", attempt: 1, due_at: 0 }), "invalid_attempt"],
    [JSON.stringify({ kind: "attempt", delivery_id: `msg_${"a".repeat(32)}`, attempt: 0, due_at: 0 }), "invalid_attempt"],
    [JSON.stringify({ Type: "Notification", Message: JSON.stringify({ Type: "Notification", Message: JSON.stringify(EVENT) }) }), "invalid_job_event"],
  ];
  for (const [body, reason] of cases) {
    assert.throws(() => parseQueueMessage(body), (error: unknown) => error instanceof PoisonMessage && error.reason === reason, body);
  }
});

test("result_url: a path under the base URL, or an absolute URL under it; nothing else", () => {
  const base = "https://api.example.com";
  assert.equal(resultUrlUnder(base, "/api/jobs/1/").href, "https://api.example.com/api/jobs/1/");
  assert.equal(resultUrlUnder(`${base}/`, "https://api.example.com/api/jobs/1/").href, "https://api.example.com/api/jobs/1/");
  assert.equal(resultUrlUnder("https://example.com/django", "/api/jobs/1/").href, "https://example.com/django/api/jobs/1/");
  for (const bad of ["//evil.example/api/jobs/1/", "https://evil.example/api/jobs/1/", "https://api.example.com.evil.example/x", "http://api.example.com/api/jobs/1/", "https://u:p@api.example.com/x"]) {
    assert.throws(() => resultUrlUnder(base, bad), ResultFetchFailed, bad);
  }
  assert.throws(() => resultUrlUnder("https://example.com/django", "https://example.com/other/"), ResultFetchFailed);
});

describe("one attempt's limits", () => {
  let server: Server;
  let base = "";
  const LOCAL = parseAllowedUrls("http://127.0.0.1:*");
  before(async () => {
    server = createServer((request, response) => {
      request.resume();
      if (request.url === "/silent") return; // never answers
      if (request.url === "/huge") {
        response.writeHead(200);
        response.end(Buffer.alloc(4 * 1024 * 1024));
        return;
      }
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => { resolve(); }); }));

  const post = (url: string, timeoutMs?: number) =>
    postSigned({ url, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", messageId: "msg_1", body: "{}", allowed: LOCAL, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

  test("no answer within the deadline: timeout", async () => {
    assert.deepEqual(await post(`${base}/silent`, 200).then((outcome) => [outcome.statusCode, outcome.error]), [null, "timeout"]);
  });

  test("a 500 is a failure with its status", async () => {
    assert.deepEqual(await post(`${base}/x`).then((outcome) => [outcome.statusCode, outcome.error]), [500, "http_500"]);
  });

  test("a large answer is read up to 64 KiB and the attempt still succeeds", async () => {
    assert.deepEqual(await post(`${base}/huge`).then((outcome) => [outcome.statusCode, outcome.error]), [200, null]);
  });

  test("nothing listening: connection_refused", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => { resolve(); }));
    assert.deepEqual(await post(`http://127.0.0.1:${String(port)}/`).then((outcome) => [outcome.statusCode, outcome.error]), [null, "connection_refused"]);
  });
});
