// The HTTP API's routing, validation and auth refusals, with an in-memory store (no AWS): every
// refusal is a 4xx with its stable code, and another user's records are not_found.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, test } from "node:test";

import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";

import { apiRequestFrom } from "../src/api/request.js";
import { route, type ApiDeps } from "../src/api/routes.js";
import { accessTokenVerifier } from "../src/auth.js";
import { errorResponse, type HttpResult } from "../src/errors.js";
import { parseAllowedUrls, checkWebhookUrl } from "../src/ssrf.js";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { MemoryWebhookStore } from "./support/memory-store.js";

const ISSUER = "https://django.example";
let privateKey: CryptoKey;
let publicJwk: JWK;
let deps: ApiDeps;
let store: MemoryWebhookStore;
const queued: unknown[] = [];

before(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  privateKey = pair.privateKey;
  const jwk = await exportJWK(pair.publicKey);
  publicJwk = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: "ES256", use: "sig" };
  store = new MemoryWebhookStore();
  const verifier = accessTokenVerifier({ issuer: ISSUER, jwks: { keys: [publicJwk] } });
  deps = {
    store,
    queue: { schedule: (message) => { queued.push(message); return Promise.resolve(); } },
    authenticate: (authorization) => verifier.authenticate(authorization),
    checkUrl: (url) => checkWebhookUrl(url, { allowed: parseAllowedUrls("http://127.0.0.1:*"), resolve: () => Promise.resolve(["10.0.0.9"]) }),
    syncFilterPolicy: () => Promise.resolve(),
  };
});

async function token(sub: string, overrides: Record<string, unknown> = {}, header: { kid?: string } = {}): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, sub, aud: "webhooks", iat, exp: iat + 300, jti: randomBytes(16).toString("hex"), client_id: "session", scope: "webhooks:read webhooks:write", ...overrides })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: header.kid ?? String(publicJwk.kid) })
    .sign(privateKey);
}

async function call(method: string, rawPath: string, options: { token?: string; body?: string; stage?: string; base64?: boolean } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
  const event = {
    version: "2.0",
    rawPath: rawPath.split("?")[0],
    queryStringParameters: Object.fromEntries(new URLSearchParams(rawPath.split("?")[1] ?? "")),
    headers,
    body: options.base64 === true && options.body !== undefined ? Buffer.from(options.body).toString("base64") : options.body,
    isBase64Encoded: options.base64 === true,
    requestContext: { stage: options.stage ?? "$default", http: { method } },
  } as unknown as APIGatewayProxyEventV2;
  try {
    return await route(apiRequestFrom(event), deps);
  } catch (error) {
    return errorResponse(error);
  }
}

function code(response: HttpResult): string {
  return (JSON.parse(response.body) as { error: { code: string } }).error.code;
}

describe("auth refusals", () => {
  test("no token, expired, audience ws, a key not in the JWKS, HS256: 401 with their codes", async () => {
    const { privateKey: stranger } = await generateKeyPair("ES256");
    const iat = Math.floor(Date.now() / 1000);
    const unknownKey = await new SignJWT({ iss: ISSUER, sub: "a", aud: "webhooks", iat, exp: iat + 60, jti: randomBytes(16).toString("hex"), client_id: "x" })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "other" })
      .sign(stranger);
    const hs256 = await new SignJWT({ sub: "a" }).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: String(publicJwk.kid) }).sign(randomBytes(32));
    const cases: [string | undefined, string][] = [
      [undefined, "not_authenticated"],
      [await token("a", { iat: iat - 400, exp: iat - 100 }), "token_expired"],
      [await token("a", { aud: "ws" }), "token_wrong_audience"],
      [unknownKey, "token_unknown_key"],
      [hs256, "token_malformed"],
    ];
    for (const [bearer, expected] of cases) {
      const response = await call("GET", "/webhooks/endpoints", bearer === undefined ? {} : { token: bearer });
      assert.deepEqual([response.statusCode, code(response)], [401, expected]);
    }
  });

  test("a token without the scope: 403 insufficient_scope", async () => {
    const response = await call("GET", "/webhooks/endpoints", { token: await token("a", { scope: "webhooks:write" }) });
    assert.deepEqual([response.statusCode, code(response)], [403, "insufficient_scope"]);
  });
});

describe("routing and validation", () => {
  test("a named stage's prefix is stripped; base64 bodies are decoded", async () => {
    const response = await call("POST", "/prod/webhooks/endpoints", { stage: "prod", token: await token("s"), body: JSON.stringify({ url: "http://127.0.0.1:9/x" }), base64: true });
    assert.equal(response.statusCode, 201, response.body);
  });

  test("unknown paths are 404, other methods 405 with allow", async () => {
    const alice = await token("a");
    assert.equal(code(await call("GET", "/webhooks", { token: alice })), "not_found");
    const head = await call("HEAD", "/webhooks/endpoints", { token: alice });
    assert.deepEqual([head.statusCode, code(head), head.headers["allow"]], [405, "method_not_allowed", "POST, GET"]);
  });

  test("a host resolving to a private address is refused at creation: url_not_allowed", async () => {
    const response = await call("POST", "/webhooks/endpoints", { token: await token("a"), body: JSON.stringify({ url: "https://hooks.example/" }) });
    assert.deepEqual([response.statusCode, code(response)], [400, "url_not_allowed"]);
  });

  test("invalid bodies name their fields", async () => {
    const response = await call("POST", "/webhooks/endpoints", {
      token: await token("a"),
      body: JSON.stringify({ url: 5, description: "d".repeat(257), event_types: ["job.nope"], color: "red" }),
    });
    assert.equal(response.statusCode, 400);
    const body = JSON.parse(response.body) as { error: { code: string; fields: Record<string, unknown> } };
    assert.equal(body.error.code, "invalid_request");
    assert.deepEqual(Object.keys(body.error.fields).sort(), ["color", "description", "event_types", "url"]);
  });

  test("another user's endpoint and delivery are not_found, never forbidden", async () => {
    const created = await call("POST", "/webhooks/endpoints", { token: await token("owner"), body: JSON.stringify({ url: "http://127.0.0.1:9/x" }) });
    const { id } = JSON.parse(created.body) as { id: string };
    const ping = await call("POST", `/webhooks/endpoints/${id}/test`, { token: await token("owner") });
    assert.equal(ping.statusCode, 202);
    const { delivery } = JSON.parse(ping.body) as { delivery: { id: string } };
    const other = await token("intruder");
    for (const [method, path] of [
      ["DELETE", `/webhooks/endpoints/${id}`],
      ["POST", `/webhooks/endpoints/${id}/test`],
      ["GET", `/webhooks/endpoints/${id}/deliveries`],
      ["POST", `/webhooks/deliveries/${delivery.id}/retry`],
    ] as const) {
      const response = await call(method, path, { token: other });
      assert.deepEqual([response.statusCode, code(response)], [404, "not_found"], `${method} ${path}`);
    }
    const mine = await call("GET", `/webhooks/endpoints/${id}/deliveries?limit=1`, { token: await token("owner") });
    assert.equal((JSON.parse(mine.body) as { deliveries: unknown[] }).deliveries.length, 1);
  });

  test("a disabled endpoint's delivery cannot be retried: 409 endpoint_disabled", async () => {
    const owner = await token("d");
    const created = await call("POST", "/webhooks/endpoints", { token: owner, body: JSON.stringify({ url: "http://127.0.0.1:9/x" }) });
    const { id } = JSON.parse(created.body) as { id: string };
    const ping = await call("POST", `/webhooks/endpoints/${id}/test`, { token: owner });
    const { delivery } = JSON.parse(ping.body) as { delivery: { id: string } };
    const endpoint = await store.getEndpoint("d", id);
    assert.ok(endpoint !== undefined);
    await store.setEndpointHealth(endpoint, "disabled", new Date().toISOString());
    const response = await call("POST", `/webhooks/deliveries/${delivery.id}/retry`, { token: owner });
    assert.deepEqual([response.statusCode, code(response)], [409, "endpoint_disabled"]);
  });
});
