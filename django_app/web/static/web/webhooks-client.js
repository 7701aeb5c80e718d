// webhooks-client.js: the webhooks service's HTTP API (functions/webhooks), called from the browser.
//
// A small, dependency-free ES module with no DOM code (webhooks-panel.js draws the panel). The
// service is on another origin: every call is a CORS fetch carrying `Authorization: Bearer <token>`
// and never a cookie. The token is a Django-issued access token for audience "webhooks":
//   POST /api/auth/token/ {"audience": "webhooks"} (same origin: session cookie + X-CSRFToken)
//   → 200 {"access_token", "token_type": "Bearer", "expires_in", "scope", ...}
// It is kept in memory only, fetched again ~30 s before it expires, and once more after a 401 from
// the service (the call is then retried once). Errors from either side arrive as
// {"error": {"code", "message", "fields"?}} and are thrown as WebhooksError.
//
// The signing secret of a new endpoint is in createEndpoint()'s answer, once: this module hands it
// to the caller and keeps no copy (nothing here writes to any storage).
//
// Usage:
//   import { createWebhooksClient } from "/static/web/webhooks-client.js";
//   const client = createWebhooksClient({ baseUrl: "https://hooks.example.com" });
//   const { endpoints } = await client.listEndpoints();

import { csrfToken } from "./jobs-client.js";

export const TOKEN_AUDIENCE = "webhooks";
export const TOKEN_REFRESH_MARGIN_MS = 30 * 1000;
const REQUEST_TIMEOUT_MS = 20 * 1000;

export class WebhooksError extends Error {
  constructor(message, { status = 0, code = "error", fields = null } = {}) {
    super(message);
    this.name = "WebhooksError";
    this.status = status; // 0: no answer (network, CORS, timeout)
    this.code = code;
    this.fields = fields;
  }
}

// The base URL as configured, without trailing slashes; "" is refused (no service, no client).
export function normaliseBaseUrl(baseUrl) {
  const base = String(baseUrl || "").trim().replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+/.test(base)) throw new Error(`webhooks: not an http(s) base URL: ${JSON.stringify(baseUrl)}`);
  return base;
}

// Path segments are ids from the service: always escaped, so an id can never change the route.
export function apiUrl(baseUrl, segments, query = {}) {
  const path = segments.map((segment) => encodeURIComponent(String(segment))).join("/");
  const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== undefined && value !== null));
  const qs = search.toString();
  return `${normaliseBaseUrl(baseUrl)}/${path}${qs ? `?${qs}` : ""}`;
}

// Turn any answer into a WebhooksError: the error envelope when there is one, the status otherwise.
export async function errorFrom(response, fallback) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && typeof body === "object" ? body.error : null;
  const message = error && typeof error.message === "string" && error.message ? error.message : `${fallback}: HTTP ${response.status}`;
  const code = error && typeof error.code === "string" ? error.code : `http_${response.status}`;
  const fields = error && error.fields && typeof error.fields === "object" ? error.fields : null;
  return new WebhooksError(message, { status: response.status, code, fields });
}

export function createWebhooksClient(options = {}) {
  const {
    baseUrl,
    tokenUrl = "/api/auth/token/",
    fetchImpl = globalThis.fetch.bind(globalThis),
    now = () => Date.now(),
    csrf = () => csrfToken(),
    timeoutMs = REQUEST_TIMEOUT_MS,
  } = options;
  const base = normaliseBaseUrl(baseUrl);
  let token = null; // {value, refreshAt}: memory only
  let pending = null; // one token request at a time, shared by concurrent calls

  async function send(url, init, what) {
    const signal = typeof AbortSignal !== "undefined" && AbortSignal.timeout ? AbortSignal.timeout(timeoutMs) : undefined;
    try {
      return await fetchImpl(url, signal ? { ...init, signal } : init);
    } catch (cause) {
      const timedOut = cause && (cause.name === "TimeoutError" || cause.name === "AbortError");
      const error = new WebhooksError(timedOut ? `${what}: no answer in time.` : `${what}: the service could not be reached.`, {
        code: timedOut ? "timeout" : "network_error",
      });
      error.cause = cause;
      throw error;
    }
  }

  async function fetchToken() {
    const response = await send(
      tokenUrl,
      {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: JSON.stringify({ audience: TOKEN_AUDIENCE }),
      },
      "Access token",
    );
    if (!response.ok) throw await errorFrom(response, "Access token");
    const body = await response.json();
    if (!body || typeof body.access_token !== "string" || !body.access_token) {
      throw new WebhooksError("Access token: the answer carried no token.", { status: response.status, code: "invalid_token_response" });
    }
    const lifetimeMs = Math.max(0, Number(body.expires_in) || 0) * 1000;
    // 30 s before expiry, or halfway through a lifetime shorter than a minute.
    const margin = Math.min(TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 2);
    return { value: body.access_token, refreshAt: now() + lifetimeMs - margin };
  }

  async function accessToken({ fresh = false } = {}) {
    if (!fresh && token && now() < token.refreshAt) return token.value;
    if (!pending) {
      token = null;
      pending = fetchToken().then(
        (issued) => {
          token = issued;
          pending = null;
          return issued.value;
        },
        (error) => {
          pending = null;
          throw error;
        },
      );
    }
    return pending;
  }

  async function call(method, segments, { body, query } = {}) {
    const url = apiUrl(base, segments, query);
    const what = `${method} /${segments.slice(0, 2).join("/")}`; // ids stay out of messages
    for (let attempt = 0; ; attempt++) {
      const bearer = await accessToken({ fresh: attempt > 0 });
      const headers = { Accept: "application/json", Authorization: `Bearer ${bearer}` };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await send(
        url,
        { method, mode: "cors", credentials: "omit", cache: "no-store", headers, body: body === undefined ? undefined : JSON.stringify(body) },
        what,
      );
      if (response.status === 401 && attempt === 0) {
        token = null; // expired early, revoked, or a key rotated: one new token, one more try
        continue;
      }
      if (!response.ok) throw await errorFrom(response, what);
      if (response.status === 204) return null;
      const text = await response.text();
      try {
        return text ? JSON.parse(text) : null;
      } catch {
        throw new WebhooksError(`${what}: the answer is not JSON.`, { status: response.status, code: "invalid_response" });
      }
    }
  }

  return {
    get baseUrl() {
      return base;
    },
    accessToken,
    listEndpoints: () => call("GET", ["webhooks", "endpoints"]),
    createEndpoint: ({ url, description = "", event_types: eventTypes }) =>
      call("POST", ["webhooks", "endpoints"], { body: { url, description, event_types: eventTypes } }),
    deleteEndpoint: (id) => call("DELETE", ["webhooks", "endpoints", id]),
    sendTest: (id) => call("POST", ["webhooks", "endpoints", id, "test"]),
    listDeliveries: (id, { limit = 20 } = {}) => call("GET", ["webhooks", "endpoints", id, "deliveries"], { query: { limit } }),
    retryDelivery: (id) => call("POST", ["webhooks", "deliveries", id, "retry"]),
  };
}
