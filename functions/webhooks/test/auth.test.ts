// Verifying Django's access tokens, with tokens signed here by P-256 keys jose generates: a local JWKS
// document, and a JWKS served over HTTP on 127.0.0.1 (cache, rotation, cooldown, outage).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from "jose";

import { accessTokenVerifier, type TokenRefusal, TokenRejected } from "../src/auth.js";
import { ApiError, errorResponse } from "../src/errors.js";

const ISSUER = "http://127.0.0.1:8000";

interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

async function signingKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, kid, publicJwk: { ...jwk, kid, alg: "ES256", use: "sig" } };
}

function jwks(...keys: SigningKey[]): JSONWebKeySet {
  return { keys: keys.map((key) => key.publicJwk) };
}

const now = (): number => Math.floor(Date.now() / 1000);

/** Django's claims for an access token; an override of `undefined` leaves that claim out. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const iat = now();
  const all: Record<string, unknown> = {
    iss: ISSUER,
    sub: "42",
    aud: "webhooks",
    iat,
    exp: iat + 300,
    jti: randomBytes(16).toString("base64url"),
    client_id: "session",
    scope: "webhooks:read webhooks:write",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

async function token(
  key: SigningKey,
  payload: JWTPayload = claims(),
  header: { typ?: string; kid?: string | null } = {},
): Promise<string> {
  const kid = header.kid === null ? {} : { kid: header.kid ?? key.kid };
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", typ: header.typ ?? "at+jwt", ...kid }).sign(key.privateKey);
}

function segment(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function refused(code: TokenRefusal): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof TokenRejected, String(error));
    assert.equal(error.code, code, error.message);
    return true;
  };
}

let key: SigningKey;
let other: SigningKey;

before(async () => {
  [key, other] = await Promise.all([signingKey(), signingKey()]);
});

describe("with Django's JWKS as a document", () => {
  const verifier = () => accessTokenVerifier({ issuer: ISSUER, jwks: jwks(key) });

  test("a valid access token gives its claims", async () => {
    const verified = await verifier().verify(await token(key));
    assert.equal(verified.sub, "42");
    assert.equal(verified.aud, "webhooks");
    assert.equal(verified.client_id, "session");
    assert.equal(verified.scope, "webhooks:read webhooks:write");
  });

  test("authenticate takes the Authorization header", async () => {
    const bearer = await token(key);
    assert.equal((await verifier().authenticate(`Bearer ${bearer}`)).sub, "42");
    assert.equal((await verifier().authenticate(`bearer  ${bearer}`)).sub, "42");
  });

  test("no token: not_authenticated, 401, in the error shape", async () => {
    for (const authorization of [undefined, "", "Basic ZGVtbzpkZW1v", `Token ${await token(key)}`]) {
      const error: unknown = await verifier().authenticate(authorization).then(
        () => null,
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof ApiError, String(authorization));
      const response = errorResponse(error);
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers["www-authenticate"], "Bearer");
      assert.deepEqual(JSON.parse(response.body), {
        error: { code: "not_authenticated", message: "An access token is required (Authorization: Bearer …)." },
      });
    }
  });

  test("a refused token is a 401 with its code", async () => {
    const expired = await token(key, claims({ iat: now() - 400, exp: now() - 100 }));
    const error: unknown = await verifier().authenticate(`Bearer ${expired}`).then(
      () => null,
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof ApiError);
    const response = errorResponse(error);
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers["www-authenticate"], 'Bearer error="invalid_token"');
    assert.deepEqual(JSON.parse(response.body), { error: { code: "token_expired", message: "The access token has expired." } });
    await assert.rejects(verifier().authenticate("Bearer "), (reason: unknown) => reason instanceof ApiError && reason.code === "token_malformed");
  });

  const cases: [string, () => Promise<string>, TokenRefusal][] = [
    ["expired", () => token(key, claims({ iat: now() - 400, exp: now() - 100 })), "token_expired"],
    ["for audience ws", () => token(key, claims({ aud: "ws" })), "token_wrong_audience"],
    ["from another issuer", () => token(key, claims({ iss: "http://127.0.0.1:9999" })), "token_wrong_issuer"],
    ["a ticket (typ JWT)", () => token(key, claims(), { typ: "JWT" }), "token_wrong_type"],
    ["signed by a key not in the JWKS", () => token(other), "token_unknown_key"],
    ["naming no key", () => token(key, claims(), { kid: null }), "token_unknown_key"],
    ["signed by another key under a known kid", () => token(other, claims(), { kid: key.kid }), "token_bad_signature"],
    [
      "HS256, keyed with the public key's x",
      () => {
        const secret = Buffer.from(String(key.publicJwk.x), "base64url");
        return new SignJWT(claims()).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: key.kid }).sign(secret);
      },
      "token_malformed",
    ],
    ["alg none", () => Promise.resolve(`${segment({ alg: "none", typ: "at+jwt", kid: key.kid })}.${segment(claims())}.`), "token_malformed"],
    [
      "alg none, with a signature segment",
      () => Promise.resolve(`${segment({ alg: "none", typ: "at+jwt", kid: key.kid })}.${segment(claims())}.AAAA`),
      "token_malformed",
    ],
    ["padded base64url", async () => `${await token(key)}=`, "token_malformed"],
    ["living longer than 300 s", () => token(key, claims({ exp: now() + 301 })), "token_malformed"],
    ["issued in the future", () => token(key, claims({ iat: now() + 60, exp: now() + 120 })), "token_malformed"],
    ["with a fractional exp", () => token(key, claims({ exp: now() + 100.5 })), "token_malformed"],
    ["without client_id", () => token(key, claims({ client_id: undefined })), "token_malformed"],
    ["without jti", () => token(key, claims({ jti: undefined })), "token_malformed"],
    ["not a JWT", () => Promise.resolve("not-a-token"), "token_malformed"],
    ["over 4 KB", () => token(key, claims({ padding: "x".repeat(4096) })), "token_malformed"],
  ];
  for (const [name, make, code] of cases) {
    test(`${name}: ${code}`, async () => {
      await assert.rejects(verifier().verify(await make()), refused(code));
    });
  }
});

describe("with Django's JWKS fetched from the issuer", () => {
  let server: Server;
  let issuer: string;
  let served: JSONWebKeySet;
  let status = 200;
  let fetches = 0;

  before(async () => {
    served = jwks(key);
    server = createServer((request, response) => {
      fetches += 1;
      if (request.url !== "/.well-known/jwks.json") {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    issuer = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => { resolve(); })));

  const reset = (keys: JSONWebKeySet, answer = 200): void => {
    served = keys;
    status = answer;
    fetches = 0;
  };

  test("fetched once, then cached", async () => {
    reset(jwks(key));
    const verifier = accessTokenVerifier({ issuer });
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await verifier.verify(await token(key, claims({ iss: issuer })))).sub, "42");
    }
    assert.equal(fetches, 1);
  });

  test("a rotation is picked up: an unknown kid fetches the JWKS again", async () => {
    reset(jwks(key));
    const verifier = accessTokenVerifier({ issuer, cooldownMs: 0 });
    await verifier.verify(await token(key, claims({ iss: issuer })));
    served = jwks(key, other);
    assert.equal((await verifier.verify(await token(other, claims({ iss: issuer })))).sub, "42");
    assert.equal(fetches, 2);
  });

  test("within the cooldown an unknown kid is refused without fetching again", async () => {
    reset(jwks(key));
    const verifier = accessTokenVerifier({ issuer, cooldownMs: 60_000 });
    await verifier.verify(await token(key, claims({ iss: issuer })));
    served = jwks(key, other);
    for (let i = 0; i < 3; i += 1) {
      await assert.rejects(verifier.verify(await token(other, claims({ iss: issuer }))), refused("token_unknown_key"));
    }
    assert.equal(fetches, 1);
  });

  test("a JWKS that cannot be fetched refuses the token: token_unknown_key", async () => {
    reset(jwks(key), 500);
    await assert.rejects(accessTokenVerifier({ issuer }).verify(await token(key, claims({ iss: issuer }))), refused("token_unknown_key"));
    reset({ keys: [] });
    await assert.rejects(accessTokenVerifier({ issuer }).verify(await token(key, claims({ iss: issuer }))), refused("token_unknown_key"));
  });

  test("an expired token from a fetched key: token_expired", async () => {
    reset(jwks(key));
    const expired = await token(key, claims({ iss: issuer, iat: now() - 400, exp: now() - 100 }));
    await assert.rejects(accessTokenVerifier({ issuer }).verify(expired), refused("token_expired"));
  });
});
