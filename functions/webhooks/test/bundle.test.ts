// The esbuild bundle builds, stays under the 1 MiB, and works on its own.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

import type { APIGatewayProxyEventV2 } from "aws-lambda";

import { bundle, MAX_BUNDLE_BYTES } from "../scripts/bundle.js";

const work = await mkdtemp(join(tmpdir(), "webhooks-bundle-"));
after(() => rm(work, { recursive: true, force: true }));

test("the bundle builds, is at most 1 MiB and exports exactly the two Lambda handlers", async () => {
  const outfile = join(work, "index.mjs");
  const size = await bundle(outfile);
  assert.ok(size > 0 && size <= MAX_BUNDLE_BYTES, `${String(size)} bytes`);

  const bundled = (await import(pathToFileURL(outfile).href)) as typeof import("../src/index.js");
  assert.deepEqual(Object.keys(bundled).sort(), ["api", "deliver"]);
  assert.equal(typeof bundled.api, "function");
  assert.equal(typeof bundled.deliver, "function");

  // The bundled api answers a request without a token, with no network and no AWS call.
  const saved = { ...process.env };
  Object.assign(process.env, {
    WEBHOOKS_TABLE: "webhooks",
    WEBHOOKS_QUEUE_URL: "http://127.0.0.1:9/000000000000/webhooks",
    API_BASE_URL: "http://127.0.0.1:9",
  });
  try {
    const event = {
      version: "2.0",
      rawPath: "/webhooks/endpoints",
      headers: {},
      isBase64Encoded: false,
      requestContext: { stage: "$default", http: { method: "GET" } },
    } as unknown as APIGatewayProxyEventV2;
    const response = await bundled.api(event);
    assert.equal(response.statusCode, 401);
    assert.equal((JSON.parse(response.body) as { error: { code: string } }).error.code, "not_authenticated");
  } finally {
    for (const name of ["WEBHOOKS_TABLE", "WEBHOOKS_QUEUE_URL", "API_BASE_URL"]) {
      if (saved[name] === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = saved[name];
    }
  }
});
