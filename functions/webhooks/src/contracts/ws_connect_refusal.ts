/* Generated from contracts/schemas/ws_connect_refusal.json by `npm run -w functions/webhooks generate`.
 * Do not edit: change the pydantic model, run `python -m contracts.export_schemas`, then generate. */

/**
 * The body of a refused ``$connect`` (status 401, 403 or 503).
 */
export interface ConnectRefusal {
  error: ConnectError;
  [k: string]: unknown;
}
export interface ConnectError {
  code:
    | "ticket_missing"
    | "ticket_malformed"
    | "ticket_unknown_key"
    | "ticket_bad_signature"
    | "ticket_expired"
    | "ticket_wrong_audience"
    | "ticket_wrong_issuer"
    | "ticket_replayed"
    | "ticket_topics_invalid"
    | "user_inactive"
    | "unavailable";
  message: string;
  [k: string]: unknown;
}
