/* Generated from contracts/schemas/access_token_claims.json by `npm run -w functions/webhooks generate`.
 * Do not edit: change the pydantic model, run `python -m contracts.export_schemas`, then generate. */

export interface AccessTokenClaims {
  /**
   * The one service the token is for (a name in Django's service registry).
   */
  aud: string;
  /**
   * How the holder authenticated to Django: `session` or `api-token:<id>`.
   */
  client_id: string;
  exp: number;
  iat: number;
  /**
   * Django's public base URL.
   */
  iss: string;
  jti: string;
  /**
   * Space-separated scopes granted for that service.
   */
  scope?: string;
  /**
   * The user the token acts for, as a string id.
   */
  sub: string;
  [k: string]: unknown;
}
