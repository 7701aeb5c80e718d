/**
 * API Gateway HTTP API (payload format 2.0) event → the request the routes need: a pure adapter.
 * Bodies over 64 KiB, of another media type, or not JSON are refused here with their codes.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";

import { ApiError } from "../errors.js";

export const MAX_BODY_BYTES = 64 * 1024;

export interface ApiRequest {
  method: string;
  /** The path without the stage prefix, e.g. /webhooks/endpoints. */
  path: string;
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
  /** The raw body, decoded from base64 when API Gateway encoded it; "" when there is none. */
  body: string;
}

export function apiRequestFrom(event: APIGatewayProxyEventV2): ApiRequest {
  const stage = event.requestContext.stage;
  let path = event.rawPath;
  // A named stage's paths start with it; the $default stage's do not.
  if (stage !== "$default" && (path === `/${stage}` || path.startsWith(`/${stage}/`))) path = path.slice(stage.length + 1) || "/";
  const raw = event.body ?? "";
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path,
    headers: event.headers,
    query: event.queryStringParameters ?? {},
    body: event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw,
  };
}

/** The request's JSON body (an empty body is `{}`), or the refusal. */
export function jsonBody(request: ApiRequest): unknown {
  if (Buffer.byteLength(request.body) > MAX_BODY_BYTES) {
    throw new ApiError(413, "payload_too_large", `The body is larger than ${String(MAX_BODY_BYTES)} bytes.`);
  }
  if (request.body.trim() === "") return {};
  const mediaType = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new ApiError(415, "unsupported_media_type", "The body must be application/json.");
  }
  try {
    return JSON.parse(request.body) as unknown;
  } catch {
    throw new ApiError(400, "malformed_json", "The body is not valid JSON.");
  }
}
