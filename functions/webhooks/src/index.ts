/**
 * The webhooks service (issue 15). For now: the contract types generated from contracts/schemas/.
 */
export type { AccessTokenClaims } from "./contracts/access_token_claims.js";
export type { JobEvent } from "./contracts/job_event.js";
