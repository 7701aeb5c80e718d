// Unit tests of the browser client with fake WebSocket, fetch and timers (node --test).
import assert from "node:assert/strict";
import test from "node:test";

import { isNewer, watchJob } from "../../django_app/web/static/web/jobs-client.js";

const JOB_ID = "5f0c6a52-8a1f-4a43-9d3a-3b7a8d1c2e10";

function fakeTimers() {
  let now = 0;
  let next = 1;
  const pending = new Map();
  const api = {
    setTimeout(fn, ms) { const id = next++; pending.set(id, { at: now + ms, fn }); return id; },
    clearTimeout(id) { pending.delete(id); },
    setInterval(fn, ms) { const id = next++; pending.set(id, { at: now + ms, fn, every: ms }); return id; },
    clearInterval(id) { pending.delete(id); },
    async advance(ms) {
      const end = now + ms;
      for (let guard = 0; guard < 10000; guard++) {
        const due = [...pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        const [id, timer] = due;
        now = timer.at;
        if (timer.every) timer.at += timer.every; else pending.delete(id);
        timer.fn();
        await flush();
      }
      now = end;
    },
  };
  return api;
}

async function flush() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

function fakeServer({ job, ticketOk = true }) {
  const sockets = [];
  const requests = [];
  class FakeSocket {
    constructor(url) { this.url = url; this.readyState = 0; this.sent = []; sockets.push(this); }
    send(data) { this.sent.push(JSON.parse(data)); }
    close() { this.readyState = 3; this.onclose?.(); }
    open() { this.readyState = 1; this.onopen?.(); }
    push(message) { this.onmessage?.({ data: JSON.stringify(message) }); }
    refuse() { this.readyState = 3; this.onerror?.(); this.onclose?.(); }
  }
  const fetchImpl = async (url, options = {}) => {
    requests.push({ url, options });
    if (url.endsWith("/api/ws/tickets/")) {
      return ticketOk
        ? { ok: true, status: 201, json: async () => ({ ticket: "t", websocket_url: "ws://gateway/local" }), headers: new Map() }
        : { ok: false, status: 500, json: async () => ({}), headers: new Map() };
    }
    const etag = `"${job.seq}"`;
    if (options.headers?.["If-None-Match"] === etag) return { ok: false, status: 304, headers: new Map([["ETag", etag]]) };
    return { ok: true, status: 200, json: async () => ({ ...job }), headers: { get: () => etag } };
  };
  return { sockets, requests, FakeSocket, fetchImpl };
}

test("isNewer keeps only growing seq", () => {
  assert.equal(isNewer(null, { seq: 1 }), true);
  assert.equal(isNewer({ seq: 3 }, { seq: 3 }), false);
  assert.equal(isNewer({ seq: 3 }, { seq: 2 }), false);
  assert.equal(isNewer({ seq: 3 }, { seq: 4 }), true);
});

test("subscribes first, then fetches, then applies events in seq order", async () => {
  const timers = fakeTimers();
  const job = { id: JOB_ID, status: "queued", progress: 0, seq: 1 };
  const server = fakeServer({ job });
  const seen = [];
  const watch = watchJob(JOB_ID, { fetchImpl: server.fetchImpl, WebSocketImpl: server.FakeSocket, timers, onJob: (j) => seen.push(j.seq) });
  await flush();
  const socket = server.sockets[0];
  assert.match(socket.url, /\?ticket=t$/);
  socket.open();
  assert.deepEqual(socket.sent[0], { action: "subscribe", topic: `job:${JOB_ID}` });
  assert.equal(server.requests.filter((r) => r.url.includes("/api/jobs/")).length, 0, "no fetch before the subscription");
  socket.push({ type: "subscribed", topic: `job:${JOB_ID}` });
  await flush();
  assert.equal(watch.transport, "websocket");
  const event = (seq, status, progress) => ({ type: "event", topic: `job:${JOB_ID}`, event: { job_id: JOB_ID, seq, status, progress } });
  socket.push(event(3, "running", 50));
  socket.push(event(2, "running", 10)); // late duplicate: dropped
  socket.push(event(3, "running", 50)); // redelivery: dropped
  socket.push(event(4, "succeeded", 100));
  await flush();
  assert.deepEqual(seen, [1, 3, 4]);
  assert.equal(watch.transport, "closed");
});

test("falls back to polling after repeated refusals, and finishes by polling", async () => {
  const timers = fakeTimers();
  const job = { id: JOB_ID, status: "running", progress: 10, seq: 2 };
  const server = fakeServer({ job });
  const seen = [];
  const watch = watchJob(JOB_ID, { fetchImpl: server.fetchImpl, WebSocketImpl: server.FakeSocket, timers, onJob: (j) => seen.push(j.status) });
  for (let attempt = 0; attempt < 3; attempt++) {
    await flush();
    server.sockets.at(-1).refuse();
    await timers.advance(20_000);
  }
  assert.equal(watch.transport, "polling");
  Object.assign(job, { status: "succeeded", progress: 100, seq: 5 });
  await timers.advance(15_000);
  assert.deepEqual(seen.at(-1), "succeeded");
  assert.equal(watch.transport, "closed");
  const conditional = server.requests.filter((r) => r.options.headers?.["If-None-Match"]);
  assert.ok(conditional.length >= 1, "polls revalidate with If-None-Match");
});

test("a socket that opens but never confirms the subscription counts as a failure", async () => {
  const timers = fakeTimers();
  const server = fakeServer({ job: { id: JOB_ID, status: "running", progress: 10, seq: 2 } });
  const watch = watchJob(JOB_ID, { fetchImpl: server.fetchImpl, WebSocketImpl: server.FakeSocket, timers });
  for (let attempt = 0; attempt < 3; attempt++) {
    await flush();
    server.sockets.at(-1).open(); // accepted, then silence
    await timers.advance(45_000);
  }
  assert.equal(watch.transport, "polling");
  watch.stop();
});
