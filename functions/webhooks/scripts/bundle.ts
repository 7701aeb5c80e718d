/**
 * One ESM file for Lambda (nodejs22.x) and local Node 20: `npm run -w functions/webhooks build`
 * writes dist/index.mjs (git-ignored). test/bundle.test.ts builds it the same way and checks its size.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { build } from "esbuild";

// Compiled to build/scripts/: the package root is two folders up.
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const ENTRY = join(PACKAGE_ROOT, "src", "index.ts");
export const OUTFILE = join(PACKAGE_ROOT, "dist", "index.mjs");
/** The ceiling for the bundle. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

/** Bundles src/index.ts into `outfile`; returns its size in bytes. */
export async function bundle(outfile: string = OUTFILE): Promise<number> {
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: "node",
    // The ES module builds of the AWS SDK (its `module` field) tree-shake far better than the CommonJS
    // ones esbuild picks first for node: that keeps the bundled clients well under the 1 MiB ceiling.
    mainFields: ["module", "main"],
    format: "esm",
    target: "node20", // runs on Lambda's nodejs22.x too
    minify: true,
    sourcemap: false,
    legalComments: "none",
    // The AWS SDK's CommonJS parts require node builtins; an ES module has no require of its own.
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
    logLevel: "warning",
  });
  return (await stat(outfile)).size;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const size = await bundle();
  console.log(`wrote dist/index.mjs (${String(size)} bytes)`);
  if (size > MAX_BUNDLE_BYTES) throw new Error(`the bundle is over ${String(MAX_BUNDLE_BYTES)} bytes`);
}
