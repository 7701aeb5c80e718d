/**
 * The webhooks service's building blocks (issue 15, first step): Standard Webhooks signatures,
 * Django access-token auth and the API's error shape. The bundle (dist/index.mjs) is built from here.
 */
export {
  ACCESS_TOKEN_TYPE,
  accessTokenVerifier,
  AUDIENCE,
  TokenRejected,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  type TokenRefusal,
} from "./auth.js";
export type { AccessTokenClaims } from "./contracts/access_token_claims.js";
export type { JobEvent } from "./contracts/job_event.js";
export { ApiError, errorBody, errorResponse, type ClientErrorStatus, type ErrorBody, type HttpResult } from "./errors.js";
export {
  generateSecret,
  sign,
  signedHeaders,
  verify as verifySignature,
  WebhookVerificationError,
  type SignatureRefusal,
  type WebhookHeaders,
} from "./signature.js";
