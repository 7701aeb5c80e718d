/* Generated from contracts/schemas/ticket_claims.json by `npm run -w functions/webhooks generate`.
 * Do not edit: change the pydantic model, run `python -m contracts.export_schemas`, then generate. */

/**
 * Registered claims plus the topics the holder may subscribe to.
 */
export interface TicketClaims {
  aud: string;
  exp: number;
  iat: number;
  /**
   * Django's public base URL: the issuer every verifier expects.
   */
  iss: string;
  jti: string;
  /**
   * The user id the ticket was minted for: the user model's primary key as a string.
   */
  sub: string;
  /**
   * @maxItems 100
   */
  topics: string[];
  [k: string]: unknown;
}
