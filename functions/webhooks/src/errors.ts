/**
 * One error shape for every refusal, the same as the Python services' (django_app/config/errors.py):
 * `{"error": {"code": "<stable machine code>", "message": "<for people>", "fields": {...}}}`.
 * Codes never change meaning; messages may. No stack trace ever reaches a client.
 */

/** The client-error statuses this service answers with. */
export type ClientErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429;

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    fields?: Record<string, unknown>;
  };
}

/** An API Gateway (HTTP API, payload 2.0) result. */
export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** A refusal with its own status and stable code, raised by handlers and turned into a response. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: ClientErrorStatus;
  readonly code: string;
  readonly fields: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: ClientErrorStatus,
    code: string,
    message: string,
    options: { fields?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = options.fields;
    this.headers = options.headers ?? {};
  }
}

export function errorBody(code: string, message: string, fields?: Record<string, unknown>): ErrorBody {
  return fields === undefined ? { error: { code, message } } : { error: { code, message, fields } };
}

/**
 * The response for anything a handler threw: an ApiError as itself, anything else as a bare 500
 * (its details belong in the logs, never in the response).
 */
export function errorResponse(error: unknown): HttpResult {
  if (error instanceof ApiError) {
    return {
      statusCode: error.status,
      headers: { ...error.headers, "content-type": "application/json" },
      body: JSON.stringify(errorBody(error.code, error.message, error.fields)),
    };
  }
  return {
    statusCode: 500,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(errorBody("internal_error", "Something went wrong on our side.")),
  };
}
