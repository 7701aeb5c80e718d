// The committed src/contracts/*.ts are what json-schema-to-typescript renders from
// contracts/schemas/*.json today (like tests/functional/websocket/test_contract_schemas.py).
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";

import { OUTPUT_DIR, render, renderSchemaModule, SCHEMA_MODULE_DIR, schemaNames, VALIDATED_SCHEMAS } from "../scripts/generate-contracts.js";

const HINT = "stale: run `npm run -w functions/webhooks generate`";
const names = await schemaNames();

test("there is a schema to generate from", () => {
  assert.ok(names.includes("job_event") && names.includes("access_token_claims"), names.join(", "));
});

test("one generated module per schema, and no other", async () => {
  const modules = (await readdir(OUTPUT_DIR)).sort();
  assert.deepEqual(modules, names.map((name) => `${name}.ts`).sort(), HINT);
});

for (const name of names) {
  test(`src/contracts/${name}.ts is current`, async () => {
    const committed = await readFile(join(OUTPUT_DIR, `${name}.ts`), "utf8");
    assert.equal(committed, await render(name), HINT);
  });
}

for (const name of VALIDATED_SCHEMAS) {
  test(`src/schemas/${name}.ts (the schema ajv validates with) is current`, async () => {
    const committed = await readFile(join(SCHEMA_MODULE_DIR, `${name}.ts`), "utf8");
    assert.equal(committed, await renderSchemaModule(name), HINT);
  });
}
