/* Generated from contracts/schemas/ws_client_message.json by `npm run -w functions/webhooks generate`.
 * Do not edit: change the pydantic model, run `python -m contracts.export_schemas`, then generate. */

export type WsClientMessage = SubscribeRequest | UnsubscribeRequest | PingRequest;

export interface SubscribeRequest {
  action: "subscribe";
  /**
   * A grant token from Django for a topic the ticket lacked.
   */
  grant?: string | null;
  topic: string;
}
export interface UnsubscribeRequest {
  action: "unsubscribe";
  topic: string;
}
export interface PingRequest {
  action: "ping";
  id?: string | null;
}
