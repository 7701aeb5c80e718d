/**
 * TypeScript types for the messages in contracts/schemas/*.json (written by
 * `python -m contracts.export_schemas` from the pydantic models), one module per schema in
 * src/contracts/: `npm run -w functions/webhooks generate`. test/contracts.test.ts fails when the
 * committed modules differ from what this renders. Never edit the generated files by hand.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { compile, type JSONSchema } from "json-schema-to-typescript";

// Compiled to build/scripts/: the package root is two folders up.
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SCHEMA_DIR = join(PACKAGE_ROOT, "..", "..", "contracts", "schemas");
export const OUTPUT_DIR = join(PACKAGE_ROOT, "src", "contracts");
/** The schemas the service validates against at run time, as modules esbuild bundles. */
export const SCHEMA_MODULE_DIR = join(PACKAGE_ROOT, "src", "schemas");
export const VALIDATED_SCHEMAS = ["job_event"] as const;

/** The schemas' names (file names without `.json`), sorted. */
export async function schemaNames(): Promise<string[]> {
  const files = await readdir(SCHEMA_DIR);
  return files
    .filter((file) => file.endsWith(".json"))
    .map((file) => basename(file, ".json"))
    .sort();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Keywords that annotate a schema without constraining its values.
const ANNOTATIONS = new Set(["title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"]);

/**
 * pydantic gives every field a `title` ("Job Id"); json-schema-to-typescript would turn each into a
 * type alias of its own (`type JobId = string`). Fields keep their descriptions and lose their titles;
 * models (the root and `$defs`) keep theirs, so they stay named interfaces. A field with no
 * constraint (pydantic's `Any`) becomes `unknown`.
 */
function withoutFieldTitles(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutFieldTitles);
  if (!isRecord(schema)) return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" && isRecord(value)) {
      copy[key] = Object.fromEntries(
        Object.entries(value).map(([field, fieldSchema]) => {
          const stripped = withoutFieldTitles(fieldSchema);
          if (!isRecord(stripped)) return [field, stripped];
          delete stripped["title"];
          // A field typed `Any` has no constraint at all: any JSON value, which json-schema-to-typescript
          // would otherwise narrow to an object (`{[k: string]: unknown}`).
          if (Object.keys(stripped).every((keyword) => ANNOTATIONS.has(keyword))) stripped["tsType"] = "unknown";
          return [field, stripped];
        }),
      );
    } else {
      copy[key] = withoutFieldTitles(value);
    }
  }
  return copy;
}

/** The generated module for one schema, exactly as it is committed. */
export async function render(name: string): Promise<string> {
  const parsed: unknown = JSON.parse(await readFile(join(SCHEMA_DIR, `${name}.json`), "utf8"));
  if (!isRecord(parsed)) throw new Error(`contracts/schemas/${name}.json is not a JSON object`);
  return compile(withoutFieldTitles(parsed) as JSONSchema, name, {
    bannerComment:
      `/* Generated from contracts/schemas/${name}.json by \`npm run -w functions/webhooks generate\`.\n` +
      ` * Do not edit: change the pydantic model, run \`python -m contracts.export_schemas\`, then generate. */`,
    cwd: SCHEMA_DIR,
    format: true,
    unreachableDefinitions: false,
  });
}

/** A module exporting one schema as it is (ajv compiles it at run time), exactly as it is committed. */
export async function renderSchemaModule(name: string): Promise<string> {
  const parsed: unknown = JSON.parse(await readFile(join(SCHEMA_DIR, `${name}.json`), "utf8"));
  return (
    `/* Copied from contracts/schemas/${name}.json by \`npm run -w functions/webhooks generate\`: do not edit. */\n` +
    `export const schema = ${JSON.stringify(parsed, null, 2)} as const;\n`
  );
}

async function main(): Promise<void> {
  await mkdir(OUTPUT_DIR, { recursive: true });
  const names = await schemaNames();
  const wanted = new Set(names.map((name) => `${name}.ts`));
  for (const stale of (await readdir(OUTPUT_DIR)).filter((file) => !wanted.has(file))) {
    await rm(join(OUTPUT_DIR, stale));
    console.log(`removed src/contracts/${stale}`);
  }
  for (const name of names) {
    await writeFile(join(OUTPUT_DIR, `${name}.ts`), await render(name));
    console.log(`wrote src/contracts/${name}.ts`);
  }
  await mkdir(SCHEMA_MODULE_DIR, { recursive: true });
  for (const name of VALIDATED_SCHEMAS) {
    await writeFile(join(SCHEMA_MODULE_DIR, `${name}.ts`), await renderSchemaModule(name));
    console.log(`wrote src/schemas/${name}.ts`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
