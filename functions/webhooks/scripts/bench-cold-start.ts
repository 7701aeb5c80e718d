/**
 * Cold start: a fresh `node` process that imports dist/index.mjs and answers one `api` event (no
 * token: a 401, no network), versus a fresh `node` process importing a bare module whose handler
 * returns a constant. Runs alternate (RUNS of each), and the medians and their ratio are printed as
 * one JSON line. Bounded: each run is killed after RUN_TIMEOUT_MS.
 *
 *   npm run -w functions/webhooks bench:cold-start
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { bundle } from "./bundle.js";

const RUNS = 10;
const RUN_TIMEOUT_MS = 15_000;

const EVENT = {
  version: "2.0",
  rawPath: "/webhooks/endpoints",
  headers: {},
  isBase64Encoded: false,
  requestContext: { stage: "$default", http: { method: "GET" } },
};

function driver(moduleUrl: string, expectedStatus: number): string {
  return (
    `const m = await import(${JSON.stringify(moduleUrl)});` +
    `const r = await m.api(${JSON.stringify(EVENT)}, {});` +
    `if (r.statusCode !== ${String(expectedStatus)}) { console.error(r); process.exit(1); }`
  );
}

function timeRun(source: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        WEBHOOKS_TABLE: "webhooks",
        WEBHOOKS_QUEUE_URL: "http://127.0.0.1:9/000000000000/webhooks",
        API_BASE_URL: "http://127.0.0.1:9",
        AWS_REGION: "us-east-1",
      },
    });
    const timer = setTimeout(() => { child.kill("SIGKILL"); }, RUN_TIMEOUT_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`a run exited with ${String(code)}`));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "webhooks-cold-start-"));
  try {
    const bundled = join(work, "index.mjs");
    const bytes = await bundle(bundled);
    const bare = join(work, "bare.mjs");
    await writeFile(bare, "export const api = async () => ({ statusCode: 200, headers: {}, body: '' });\n");
    const bundleSource = driver(pathToFileURL(bundled).href, 401);
    const bareSource = driver(pathToFileURL(bare).href, 200);
    const bundleMs: number[] = [];
    const bareMs: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      bundleMs.push(await timeRun(bundleSource));
      bareMs.push(await timeRun(bareSource));
    }
    const bundleMedian = median(bundleMs);
    const bareMedian = median(bareMs);
    console.log(
      JSON.stringify({
        runs_each: RUNS,
        bundle_bytes: bytes,
        bundle_median_ms: Number(bundleMedian.toFixed(1)),
        bare_median_ms: Number(bareMedian.toFixed(1)),
        ratio: Number((bundleMedian / bareMedian).toFixed(2)),
        extra_ms: Number((bundleMedian - bareMedian).toFixed(1)),
      }),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
