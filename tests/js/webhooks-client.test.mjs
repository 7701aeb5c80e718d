// Unit tests of the webhooks service client with a fake fetch and a fake clock (node --test).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";

import { apiUrl, createWebhooksClient, normaliseBaseUrl, WebhooksError } from "../../django_app/web/static/web/webhooks-client.js";

const BASE = "https://hooks.example.test";
const ENDPOINT = { id: "ep_1", url: "https://receiver.example.test/in", description: "", event_types: ["job.succeeded"], status: "active", created_at: "2025-01-01T00:00:00Z" };
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function json(status, body, headers = {}) {
  const text = body === undefined ? "" : JSON.stringify(body);
  return { ok: status >= 200 && status < 300, status, headers: new Map(Object.entries(headers)), json: async () => JSON.parse(text), text: async () => text };
}

// A fake Django (the token endpoint) and a fake webhooks service. `service` answers each call.
function fakeBackend({ service = () => json(200, { endpoints: [] }), tokenAnswer, expiresIn = 300 } = {}) {
  const requests = [];
  let issued = 0;
  const fetchImpl = async (url, init = {}) => {
    requests.push({ url, init });
    if (url === "/api/auth/token/") {
      if (tokenAnswer) return tokenAnswer();
      issued += 1;
      return json(200, { access_token: `token-${issued}`, token_type: "Bearer", expires_in: expiresIn, scope: "webhooks:read webhooks:write", audience: "webhooks" });
    }
    return service(url, init);
  };
  return { requests, fetchImpl, tokens: () => requests.filter((r) => r.url === "/api/auth/token/"), calls: () => requests.filter((r) => r.url !== "/api/auth/token/") };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

test("URLs: no trailing slash on the base, ids escaped, query encoded", () => {
  assert.equal(normaliseBaseUrl("https://hooks.example.test/dev///"), "https://hooks.example.test/dev");
  assert.throws(() => normaliseBaseUrl(""));
  assert.throws(() => normaliseBaseUrl("javascript:alert(1)"));
  assert.equal(apiUrl(`${BASE}/`, ["webhooks", "endpoints"]), `${BASE}/webhooks/endpoints`);
  assert.equal(apiUrl(BASE, ["webhooks", "endpoints", "../../x?y", "deliveries"], { limit: 20 }), `${BASE}/webhooks/endpoints/..%2F..%2Fx%3Fy/deliveries?limit=20`);
});

test("every route: method, URL, body, and the bearer token; no cookies to the service", async () => {
  const backend = fakeBackend({
    service: (url, init) => {
      if (init.method === "DELETE") return json(204);
      if (init.method === "POST" && url.endsWith("/webhooks/endpoints")) return json(201, { ...ENDPOINT, secret: SECRET });
      if (init.method === "POST") return json(202, { delivery: { id: "msg_1", status: "pending" } });
      if (url.includes("/deliveries")) return json(200, { deliveries: [] });
      return json(200, { endpoints: [ENDPOINT] });
    },
  });
  const client = createWebhooksClient({ baseUrl: `${BASE}/`, fetchImpl: backend.fetchImpl, csrf: () => "csrf-1" });
  assert.deepEqual(await client.listEndpoints(), { endpoints: [ENDPOINT] });
  await client.createEndpoint({ url: ENDPOINT.url, description: "d", event_types: ["job.failed"] });
  assert.equal(await client.deleteEndpoint("ep_1"), null);
  await client.sendTest("ep_1");
  await client.listDeliveries("ep_1");
  await client.retryDelivery("msg_1");
  assert.deepEqual(
    backend.calls().map((r) => `${r.init.method} ${r.url}`),
    [
      `GET ${BASE}/webhooks/endpoints`,
      `POST ${BASE}/webhooks/endpoints`,
      `DELETE ${BASE}/webhooks/endpoints/ep_1`,
      `POST ${BASE}/webhooks/endpoints/ep_1/test`,
      `GET ${BASE}/webhooks/endpoints/ep_1/deliveries?limit=20`,
      `POST ${BASE}/webhooks/deliveries/msg_1/retry`,
    ],
  );
  assert.deepEqual(JSON.parse(backend.calls()[1].init.body), { url: ENDPOINT.url, description: "d", event_types: ["job.failed"] });
  for (const call of backend.calls()) {
    assert.equal(call.init.headers.Authorization, "Bearer token-1");
    assert.equal(call.init.credentials, "omit");
    assert.equal(call.init.headers["X-CSRFToken"], undefined, "the CSRF token stays on Django's origin");
  }
  const [token] = backend.tokens();
  assert.equal(token.init.method, "POST");
  assert.equal(token.init.credentials, "same-origin");
  assert.equal(token.init.headers["X-CSRFToken"], "csrf-1");
  assert.deepEqual(JSON.parse(token.init.body), { audience: "webhooks" });
  assert.equal(backend.tokens().length, 1, "one token for all six calls");
});

test("the token is cached until 30 s before it expires", async () => {
  const time = clock();
  const backend = fakeBackend({ expiresIn: 300 });
  const client = createWebhooksClient({ baseUrl: BASE, fetchImpl: backend.fetchImpl, now: time.now, csrf: () => "" });
  await client.listEndpoints();
  time.advance(269_000);
  await client.listEndpoints();
  assert.equal(backend.tokens().length, 1);
  time.advance(2_000); // 271 s: inside the last 30 s
  await client.listEndpoints();
  assert.equal(backend.tokens().length, 2);
  assert.equal(backend.calls().at(-1).init.headers.Authorization, "Bearer token-2");
});

test("concurrent calls share one token request", async () => {
  const backend = fakeBackend();
  const client = createWebhooksClient({ baseUrl: BASE, fetchImpl: backend.fetchImpl, csrf: () => "" });
  await Promise.all([client.listEndpoints(), client.listDeliveries("ep_1"), client.listEndpoints()]);
  assert.equal(backend.tokens().length, 1);
});

test("a 401 from the service gets a new token and one retry, never two", async () => {
  let refusals = 1;
  const backend = fakeBackend({
    service: () => (refusals-- > 0 ? json(401, { error: { code: "invalid_token", message: "Token expired." } }) : json(200, { endpoints: [] })),
  });
  const client = createWebhooksClient({ baseUrl: BASE, fetchImpl: backend.fetchImpl, csrf: () => "" });
  assert.deepEqual(await client.listEndpoints(), { endpoints: [] });
  assert.deepEqual(backend.calls().map((r) => r.init.headers.Authorization), ["Bearer token-1", "Bearer token-2"]);

  refusals = 10;
  const error = await client.listEndpoints().catch((e) => e);
  assert.ok(error instanceof WebhooksError);
  assert.equal(error.status, 401);
  assert.equal(error.message, "Token expired.");
  assert.equal(backend.calls().length, 4, "one retry only");
});

test("the error envelope becomes WebhooksError with code, message and fields", async () => {
  const backend = fakeBackend({
    service: () => json(400, { error: { code: "invalid_url", message: "Only public https URLs are accepted.", fields: { url: ["Not public."] } } }),
  });
  const client = createWebhooksClient({ baseUrl: BASE, fetchImpl: backend.fetchImpl, csrf: () => "" });
  const error = await client.createEndpoint({ url: "http://10.0.0.1/", event_types: ["job.failed"] }).catch((e) => e);
  assert.ok(error instanceof WebhooksError);
  assert.deepEqual([error.status, error.code, error.message, error.fields], [400, "invalid_url", "Only public https URLs are accepted.", { url: ["Not public."] }]);
});

test("an answer without the envelope still gives a readable error", async () => {
  const backend = fakeBackend({ service: () => ({ ok: false, status: 502, json: async () => { throw new SyntaxError("html"); }, text: async () => "<html>" }) });
  const client = createWebhooksClient({ baseUrl: BASE, fetchImpl: backend.fetchImpl, csrf: () => "" });
  const error = await client.listEndpoints().catch((e) => e);
  assert.deepEqual([error.status, error.code, error.message], [502, "http_502", "GET /webhooks/endpoints: HTTP 502"]);
});

test("a fetch that throws (network, CORS) becomes a network_error", async () => {
  const backend = fakeBackend({ service: () => { throw new TypeError("Failed to fetch"); } });
  const client = createWebhooksClient({ baseUrl: BASE, fetchImpl: backend.fetchImpl, csrf: () => "" });
  const error = await client.listEndpoints().catch((e) => e);
  assert.equal(error.code, "network_error");
  assert.equal(error.status, 0);
});

test("a refused token request surfaces Django's error and calls no service", async () => {
  const backend = fakeBackend({ tokenAnswer: () => json(403, { error: { code: "not_authenticated", message: "Log in again." } }) });
  const client = createWebhooksClient({ baseUrl: BASE, fetchImpl: backend.fetchImpl, csrf: () => "" });
  const error = await client.listEndpoints().catch((e) => e);
  assert.deepEqual([error.status, error.code, error.message], [403, "not_authenticated", "Log in again."]);
  assert.equal(backend.calls().length, 0);
});

test("the secret is handed back once and stored nowhere", async () => {
  const writes = [];
  const storage = { setItem: (k, v) => writes.push([k, v]), getItem: () => null, removeItem: () => {} };
  globalThis.localStorage = storage;
  globalThis.sessionStorage = storage;
  try {
    const backend = fakeBackend({ service: (url, init) => (init.method === "POST" ? json(201, { ...ENDPOINT, secret: SECRET }) : json(200, { endpoints: [ENDPOINT] })) });
    const client = createWebhooksClient({ baseUrl: BASE, fetchImpl: backend.fetchImpl, csrf: () => "" });
    const created = await client.createEndpoint({ url: ENDPOINT.url, event_types: ["job.succeeded"] });
    assert.equal(created.secret, SECRET);
    await client.listEndpoints();
    assert.deepEqual(writes, []);
    assert.ok(!JSON.stringify(backend.calls().slice(1)).includes(SECRET), "never sent back to the service");
  } finally {
    delete globalThis.localStorage;
    delete globalThis.sessionStorage;
  }
  // And no code path could: neither the client nor the panel names a browser storage API.
  for (const file of ["webhooks-client.js", "webhooks-panel.js"]) {
    const source = readFileSync(new URL(`../../django_app/web/static/web/${file}`, import.meta.url), "utf8");
    assert.doesNotMatch(source, /localStorage|sessionStorage|indexedDB|document\.cookie\s*=/, file);
  }
});
