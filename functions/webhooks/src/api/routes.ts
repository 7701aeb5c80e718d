/**
 * The HTTP API: method + path → action. Every action authenticates (a Django access token for the
 * `webhooks` audience), checks its scope, and only ever sees the caller's own records: another
 * user's endpoint or delivery is `not_found`, exactly like one that does not exist.
 */
import type { AttemptQueue } from "../attempt-queue.js";
import type { AccessTokenClaims } from "../contracts/access_token_claims.js";
import { ApiError, type HttpResult } from "../errors.js";
import { NON_TERMINAL_EVENT_TYPES, TEST_EVENT_TYPE, type Delivery, type Endpoint } from "../model.js";
import { generateSecret } from "../signature.js";
import type { UrlVerdict } from "../ssrf.js";
import { EndpointLimitReached, type WebhookStore } from "../store.js";
import { ENDPOINT_ID, MESSAGE_ID, newEndpointId, randomMessageId } from "../webhook-id.js";
import { jsonBody, type ApiRequest } from "./request.js";
import { deliveryLimit, endpointInput } from "./validation.js";
import { deliveryView, endpointView } from "./views.js";

export const MAX_ENDPOINTS_PER_USER = 20;
const READ_SCOPE = "webhooks:read";
const WRITE_SCOPE = "webhooks:write";

export interface ApiDeps {
  store: WebhookStore;
  queue: AttemptQueue;
  authenticate: (authorization: string | undefined) => Promise<AccessTokenClaims>;
  checkUrl: (url: string) => Promise<UrlVerdict>;
  /** Makes the job-events subscription's filter policy match the endpoints' event types. */
  syncFilterPolicy: () => Promise<void>;
  now?: () => Date;
}

type Action = (request: ApiRequest, caller: AccessTokenClaims, params: string[], deps: ApiDeps) => Promise<HttpResult>;

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, { scope: string; action: Action }>>;
}

function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

const notFound = (what: string): ApiError => new ApiError(404, "not_found", `No ${what} of yours has that id.`);
const now = (deps: ApiDeps): Date => (deps.now ?? (() => new Date()))();

async function ownEndpoint(deps: ApiDeps, owner: string, id: string | undefined): Promise<Endpoint> {
  if (id === undefined || !ENDPOINT_ID.test(id)) throw notFound("endpoint");
  const endpoint = await deps.store.getEndpoint(owner, id);
  if (endpoint === undefined) throw notFound("endpoint");
  return endpoint;
}

/**
 * The endpoint is written already: a failed policy update must not turn that into a 500 (a client
 * would retry a create that happened). It is logged; the next create or delete sets the policy again.
 */
async function syncQuietly(deps: ApiDeps): Promise<void> {
  try {
    await deps.syncFilterPolicy();
  } catch (error) {
    console.error(JSON.stringify({ msg: "filter policy not updated", error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
  }
}

const createEndpoint: Action = async (request, caller, _params, deps) => {
  const input = endpointInput(jsonBody(request));
  const verdict = await deps.checkUrl(input.url);
  if (!verdict.ok) {
    throw new ApiError(400, "url_not_allowed", "The URL must be https and reach a public address.", { fields: { url: [verdict.reason] } });
  }
  const endpoint: Endpoint = {
    id: newEndpointId(),
    owner: caller.sub,
    url: input.url,
    description: input.description,
    event_types: input.event_types,
    status: "active",
    created_at: now(deps).toISOString(),
    failing_since: null,
    secret: generateSecret(),
  };
  try {
    await deps.store.createEndpoint(endpoint, MAX_ENDPOINTS_PER_USER);
  } catch (error) {
    if (error instanceof EndpointLimitReached) {
      throw new ApiError(409, "endpoint_limit", `A user has at most ${String(MAX_ENDPOINTS_PER_USER)} endpoints.`);
    }
    throw error;
  }
  if (endpoint.event_types.some((type) => NON_TERMINAL_EVENT_TYPES.includes(type))) await syncQuietly(deps);
  // The secret is shown here once, never again.
  return json(201, { ...endpointView(endpoint), secret: endpoint.secret });
};

const listEndpoints: Action = async (_request, caller, _params, deps) =>
  json(200, { endpoints: (await deps.store.listEndpoints(caller.sub)).map(endpointView) });

const deleteEndpoint: Action = async (_request, caller, [id], deps) => {
  const endpoint = await ownEndpoint(deps, caller.sub, id);
  if (!(await deps.store.deleteEndpoint(endpoint))) throw notFound("endpoint");
  if (endpoint.event_types.some((type) => NON_TERMINAL_EVENT_TYPES.includes(type))) await syncQuietly(deps);
  return { statusCode: 204, headers: {}, body: "" };
};

const sendTest: Action = async (_request, caller, [id], deps) => {
  const endpoint = await ownEndpoint(deps, caller.sub, id);
  if (endpoint.status === "disabled") throw new ApiError(409, "endpoint_disabled", "The endpoint is disabled.");
  const at = now(deps);
  const delivery: Delivery = {
    id: randomMessageId(),
    endpoint_id: endpoint.id,
    owner: caller.sub,
    event_type: TEST_EVENT_TYPE,
    job_id: null,
    status: "pending",
    attempt_count: 0,
    attempts: [],
    next_attempt_at: at.toISOString(),
    created_at: at.toISOString(),
    message: JSON.stringify({ type: TEST_EVENT_TYPE, timestamp: at.toISOString(), data: { endpoint_id: endpoint.id } }),
  };
  await deps.store.createDelivery(delivery);
  // Sent through the queue, the same path as a job event's retries.
  await deps.queue.schedule({ delivery_id: delivery.id, attempt: 1, due_at: Math.floor(at.getTime() / 1000) });
  return json(202, { delivery: deliveryView(delivery) });
};

const listDeliveries: Action = async (request, caller, [id], deps) => {
  const limit = deliveryLimit(request.query);
  const endpoint = await ownEndpoint(deps, caller.sub, id);
  return json(200, { deliveries: (await deps.store.listDeliveries(endpoint.id, limit)).map(deliveryView) });
};

const retryDelivery: Action = async (_request, caller, [id], deps) => {
  if (id === undefined || !MESSAGE_ID.test(id)) throw notFound("delivery");
  const delivery = await deps.store.getDelivery(id);
  if (delivery?.owner !== caller.sub) throw notFound("delivery");
  const endpoint = await deps.store.getEndpoint(caller.sub, delivery.endpoint_id);
  if (endpoint === undefined) throw notFound("delivery");
  if (endpoint.status === "disabled") throw new ApiError(409, "endpoint_disabled", "The delivery's endpoint is disabled.");
  const at = now(deps);
  await deps.queue.schedule({ delivery_id: delivery.id, attempt: delivery.attempt_count + 1, due_at: Math.floor(at.getTime() / 1000) });
  const queued = await deps.store.markRetryQueued(delivery.id, at.toISOString());
  return json(202, { delivery: deliveryView(queued ?? delivery) });
};

const ROUTES: Route[] = [
  {
    pattern: /^\/webhooks\/endpoints\/?$/,
    methods: { POST: { scope: WRITE_SCOPE, action: createEndpoint }, GET: { scope: READ_SCOPE, action: listEndpoints } },
  },
  { pattern: /^\/webhooks\/endpoints\/([^/]+)\/?$/, methods: { DELETE: { scope: WRITE_SCOPE, action: deleteEndpoint } } },
  { pattern: /^\/webhooks\/endpoints\/([^/]+)\/test\/?$/, methods: { POST: { scope: WRITE_SCOPE, action: sendTest } } },
  { pattern: /^\/webhooks\/endpoints\/([^/]+)\/deliveries\/?$/, methods: { GET: { scope: READ_SCOPE, action: listDeliveries } } },
  { pattern: /^\/webhooks\/deliveries\/([^/]+)\/retry\/?$/, methods: { POST: { scope: WRITE_SCOPE, action: retryDelivery } } },
];

function hasScope(caller: AccessTokenClaims, scope: string): boolean {
  return (caller.scope ?? "").split(" ").includes(scope);
}

// A malformed escape (%E0%A4%A) is an id that matches nothing, not a 500.
function decodedParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}

/** Routes one request; throws ApiError for every refusal (the handler turns it into a response). */
export async function route(request: ApiRequest, deps: ApiDeps): Promise<HttpResult> {
  for (const candidate of ROUTES) {
    const match = candidate.pattern.exec(request.path);
    if (match === null) continue;
    const handler = candidate.methods[request.method];
    if (handler === undefined) {
      throw new ApiError(405, "method_not_allowed", `Method ${request.method} is not allowed here.`, {
        headers: { allow: Object.keys(candidate.methods).join(", ") },
      });
    }
    const caller = await deps.authenticate(request.headers["authorization"]);
    if (!hasScope(caller, handler.scope)) {
      throw new ApiError(403, "insufficient_scope", `The access token lacks the scope ${handler.scope}.`);
    }
    const params = match.slice(1).map(decodedParam);
    return handler.action(request, caller, params, deps);
  }
  throw new ApiError(404, "not_found", "There is nothing at this path.");
}
