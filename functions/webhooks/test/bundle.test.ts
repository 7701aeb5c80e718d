// The esbuild bundle builds, stays under the 1 MiB, and works on its own.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

import { bundle, MAX_BUNDLE_BYTES } from "../scripts/bundle.js";

const work = await mkdtemp(join(tmpdir(), "webhooks-bundle-"));
after(() => rm(work, { recursive: true, force: true }));

test("the bundle builds, is at most 1 MiB and exports the package's API", async () => {
  const outfile = join(work, "index.mjs");
  const size = await bundle(outfile);
  assert.ok(size > 0 && size <= MAX_BUNDLE_BYTES, `${String(size)} bytes`);

  // The bundle has the entry module's exports (checked one by one below, not taken on trust).
  const bundled = (await import(pathToFileURL(outfile).href)) as typeof import("../src/index.js");
  for (const name of ["accessTokenVerifier", "errorResponse", "generateSecret", "sign", "verifySignature"] as const) {
    assert.equal(typeof bundled[name], "function", name);
  }
  // The bundled code signs like the source: the Standard Webhooks spec's vector.
  const signature = bundled.sign({
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
  });
  assert.equal(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
});
