// Run by tests/integration/test_node_verifier.py with tokens Django minted in the same test run:
// DJANGO_TOKENS names a JSON file {issuer, jwks, cases: [{name, token, audience, type, expect}]}.
// Without it (a plain `node --test`), the cases are skipped, never faked.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { djangoVerifier, VerifyError } from "./verify.mjs";

const fixturePath = process.env.DJANGO_TOKENS;
const fixture = fixturePath ? JSON.parse(readFileSync(fixturePath, "utf8")) : null;
const skip = fixture ? false : "DJANGO_TOKENS is not set (run through pytest)";

for (const source of ["the JWKS document", "the issuer's JWKS URL"]) {
  for (const item of fixture?.cases ?? [{ name: "(none)" }]) {
    test(`${item.name}, keys from ${source}`, { skip }, async () => {
      const verify = djangoVerifier({
        issuer: fixture.issuer,
        audience: item.audience,
        type: item.type,
        jwks: source === "the JWKS document" ? fixture.jwks : undefined,
      });
      if (item.expect === "ok") {
        const claims = await verify(item.token);
        assert.equal(claims.iss, fixture.issuer);
        assert.equal(claims.sub, item.sub);
      } else {
        await assert.rejects(verify(item.token), (error) => error instanceof VerifyError && error.code === item.expect);
      }
    });
  }
}
