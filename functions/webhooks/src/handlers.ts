/**
 * The two Lambda entry points, glue only:
 * - `api`: API Gateway HTTP API events (payload 2.0) → `{statusCode, headers, body}` (api/routes.ts);
 * - `deliver`: SQS events from the webhooks queue → `{batchItemFailures}` (dispatcher.ts), with
 *   poison messages logged and dropped, and any other failure reported for that record only.
 * Their dependencies are built from the environment on first use, once per container.
 */
import type { APIGatewayProxyEventV2, Context, SQSBatchResponse, SQSEvent } from "aws-lambda";

import { route, type ApiDeps } from "./api/routes.js";
import { apiRequestFrom } from "./api/request.js";
import { sqsAttemptQueue } from "./attempt-queue.js";
import { accessTokenVerifier, bearerToken, type AccessTokenVerifier } from "./auth.js";
import { dynamoClient, snsClient, sqsClient } from "./aws-clients.js";
import { mapBounded } from "./bounded.js";
import { loadConfig, type Config } from "./config.js";
import { Dispatcher } from "./dispatcher.js";
import { DynamoWebhookStore } from "./dynamo-store.js";
import { errorResponse, type HttpResult } from "./errors.js";
import { syncFilterPolicy } from "./filter-policy.js";
import { parametersFrom, type Parameters } from "./parameters.js";
import { parseQueueMessage, PoisonMessage } from "./queue-messages.js";
import { fetchJobResult } from "./result-fetch.js";
import { checkWebhookUrl } from "./ssrf.js";
import { postSigned } from "./webhook-post.js";

// Records of one batch processed together, this many at a time (each may fan out to 8 endpoints).
const RECORD_CONCURRENCY = 4;

interface Services {
  config: Config;
  parameters: Parameters;
  apiDeps: ApiDeps;
  dispatcher: Dispatcher;
}

let services: Services | undefined;

function buildServices(): Services {
  const config = loadConfig();
  const parameters = parametersFrom(config);
  const store = new DynamoWebhookStore(dynamoClient(), config.table);
  const queue = sqsAttemptQueue(sqsClient(), config.queueUrl);
  let verifier: Promise<AccessTokenVerifier> | undefined;
  const getVerifier = (): Promise<AccessTokenVerifier> => {
    verifier ??= Promise.all([parameters.issuer(), parameters.apiBaseUrl()]).then(([issuer, baseUrl]) =>
      accessTokenVerifier({ issuer, jwksUrl: `${baseUrl}/.well-known/jwks.json` }),
    );
    verifier.catch(() => {
      verifier = undefined; // SSM failed: try again on the next request
    });
    return verifier;
  };
  const apiDeps: ApiDeps = {
    store,
    queue,
    authenticate: async (authorization) => {
      bearerToken(authorization); // no token: refused before the issuer is looked up (SSM)
      return (await getVerifier()).authenticate(authorization);
    },
    checkUrl: (url) => checkWebhookUrl(url, { allowed: config.allowedUrls }),
    syncFilterPolicy: () => syncFilterPolicy(store, snsClient(), config.subscriptionArn),
  };
  const dispatcher = new Dispatcher({
    store,
    queue,
    post: postSigned,
    fetchResult: async (resultUrl) =>
      fetchJobResult(resultUrl, { baseUrl: await parameters.apiBaseUrl(), token: await parameters.serviceToken() }),
    retryDelaysSeconds: config.retryDelaysSeconds,
    attemptTimeoutMs: config.attemptTimeoutMs,
    disableAfterSeconds: config.disableAfterSeconds,
    allowedUrls: config.allowedUrls,
  });
  return { config, parameters, apiDeps, dispatcher };
}

function getServices(): Services {
  services ??= buildServices();
  return services;
}

/** Forgets the services built from the environment (tests that change it). */
export function resetServices(): void {
  services = undefined;
}

export async function api(event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> {
  try {
    // The services are built on the first request (clients only: no AWS call); a request without
    // a token is refused before any network call, SSM included.
    return await route(apiRequestFrom(event), getServices().apiDeps);
  } catch (error) {
    const response = errorResponse(error);
    if (response.statusCode >= 500) {
      console.error(JSON.stringify({ msg: "api error", request_id: context?.awsRequestId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
    }
    return response;
  }
}

export async function deliver(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
  const { dispatcher } = getServices();
  const records = event.Records;
  const results = await mapBounded(records, RECORD_CONCURRENCY, async (record) => {
    let message;
    try {
      message = parseQueueMessage(record.body);
    } catch (error) {
      if (!(error instanceof PoisonMessage)) throw error;
      // Retrying cannot fix it: log it and let it go (not into the DLQ).
      console.error(JSON.stringify({ msg: "poison message dropped", message_id: record.messageId, reason: error.reason }));
      return;
    }
    if (message.kind === "job_event") await dispatcher.handleJobEvent(message.event);
    else await dispatcher.handleAttemptMessage(message);
  });
  const batchItemFailures = results.flatMap((result, index) => {
    if (result.status === "fulfilled") return [];
    const record = records[index];
    const reason: unknown = result.reason;
    console.error(
      JSON.stringify({
        msg: "record failed",
        request_id: context?.awsRequestId,
        message_id: record?.messageId,
        receive_count: record?.attributes.ApproximateReceiveCount,
        error: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason),
      }),
    );
    return record === undefined ? [] : [{ itemIdentifier: record.messageId }];
  });
  return { batchItemFailures };
}
