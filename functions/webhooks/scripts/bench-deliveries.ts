/**
 * Deliveries per second from one process to a receiver on 127.0.0.1 (run in a child process, so
 * it does not share this process's event loop). Each delivery goes through the same code as
 * `deliver`: Dispatcher.handleJobEvent → lease → sign → POST with the keep-alive agent and the
 * SSRF checks → read the answer → record the attempt. The store is the in-memory one
 * (test/support/memory-store.ts), so this measures the service's own cost, not DynamoDB's.
 * Bounded: at most MAX_DELIVERIES deliveries and MAX_SECONDS seconds. Prints one JSON line.
 *
 *   npm run -w functions/webhooks bench:deliveries
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";

import { mapBounded } from "../src/bounded.js";
import type { JobEvent } from "../src/contracts/job_event.js";
import { Dispatcher } from "../src/dispatcher.js";
import { parseAllowedUrls } from "../src/ssrf.js";
import { postSigned } from "../src/webhook-post.js";
import { MemoryWebhookStore } from "../test/support/memory-store.js";

const MAX_DELIVERIES = 20_000;
const MAX_SECONDS = 20;
const WARMUP = 200;
const CONCURRENCY = 16;

const RECEIVER = `
const http = require("node:http");
const server = http.createServer((request, response) => {
  request.resume();
  request.on("end", () => response.writeHead(204).end());
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

async function main(): Promise<void> {
  const receiver = spawn(process.execPath, ["-e", RECEIVER], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const lines = createInterface({ input: receiver.stdout });
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error("the receiver did not start")); }, 10_000);
      lines.once("line", (line) => { clearTimeout(timer); resolve(line.trim()); });
    });
    const store = new MemoryWebhookStore();
    await store.createEndpoint(
      { id: "ep_bench", owner: "1", url: `http://127.0.0.1:${port}/hook`, description: "", event_types: ["job.succeeded"], status: "active", created_at: new Date().toISOString(), failing_since: null, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
      20,
    );
    let failures = 0;
    const dispatcher = new Dispatcher({
      store,
      queue: { schedule: () => { failures += 1; return Promise.resolve(); } },
      post: postSigned,
      fetchResult: () => Promise.reject(new Error("no result_url in the bench")),
      retryDelaysSeconds: [60],
      disableAfterSeconds: 3600,
      allowedUrls: parseAllowedUrls("http://127.0.0.1:*"),
      log: () => undefined,
    });
    const jobId = randomUUID();
    const event = (seq: number): JobEvent => ({ type: "job.succeeded", job_id: jobId, owner: "1", seq, task: "bench", status: "succeeded", progress: 100, at: new Date().toISOString(), result: { n: seq } });

    await mapBounded(Array.from({ length: WARMUP }, (_, i) => i), CONCURRENCY, (seq) => dispatcher.handleJobEvent(event(seq)));
    const deadline = performance.now() + MAX_SECONDS * 1000;
    const started = performance.now();
    let done = 0;
    const seqs = Array.from({ length: MAX_DELIVERIES }, (_, i) => WARMUP + i);
    await mapBounded(seqs, CONCURRENCY, async (seq) => {
      if (performance.now() > deadline) return;
      await dispatcher.handleJobEvent(event(seq));
      done += 1;
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify({
        deliveries_per_second: Math.round(done / seconds),
        deliveries: done,
        seconds: Number(seconds.toFixed(3)),
        concurrency: CONCURRENCY,
        failed_attempts: failures,
        store: "in-memory (test/support/memory-store.ts); receiver in a child process on 127.0.0.1",
      }),
    );
  } finally {
    receiver.kill("SIGTERM");
  }
}

await main();
