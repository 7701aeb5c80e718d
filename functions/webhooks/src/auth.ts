/**
 * Django-issued access tokens (docs/protocol.md §5): ES256 JWTs with `typ: at+jwt`, for the audience
 * `webhooks`, verified offline against Django's JWKS (`${issuer}/.well-known/jwks.json`). Nothing here
 * can mint a token. Refusals carry the codes of the Python verifiers (polyglot_auth.TokenRejected)
 * and of examples/verify-node/verify.mjs, plus `not_authenticated` for a request without a token.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";

import type { AccessTokenClaims } from "./contracts/access_token_claims.js";
import { ApiError } from "./errors.js";

export const ALGORITHM = "ES256";
export const ACCESS_TOKEN_TYPE = "at+jwt";
export const AUDIENCE = "webhooks";
const MAX_TOKEN_LENGTH = 4096;
const CANONICAL_SEGMENT = /^[A-Za-z0-9_-]+$/;
const BEARER = /^Bearer +(\S*) *$/i;

export type TokenRefusal =
  | "token_malformed"
  | "token_unknown_key"
  | "token_bad_signature"
  | "token_expired"
  | "token_wrong_issuer"
  | "token_wrong_audience"
  | "token_wrong_type";

/** A token refused, with a stable code. */
export class TokenRejected extends Error {
  override readonly name = "TokenRejected";
  readonly code: TokenRefusal;

  constructor(code: TokenRefusal, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

// What a caller is told; the details (jose's messages) stay in TokenRejected for the logs.
const MESSAGES: Record<TokenRefusal, string> = {
  token_malformed: "The access token is not a valid token.",
  token_unknown_key: "The access token is signed by a key the issuer does not publish.",
  token_bad_signature: "The access token's signature does not verify.",
  token_expired: "The access token has expired.",
  token_wrong_issuer: "The access token is from another issuer.",
  token_wrong_audience: "The access token is not for this service.",
  token_wrong_type: "The token is not an access token.",
};

// jose decodes base64url leniently; a token has one spelling only (re-encode and compare).
function assertCanonical(token: string): void {
  const parts = token.split(".");
  const canonical = (segment: string): boolean =>
    CANONICAL_SEGMENT.test(segment) && Buffer.from(segment, "base64url").toString("base64url") === segment;
  if (token.length > MAX_TOKEN_LENGTH || parts.length !== 3 || !parts.every(canonical)) {
    throw new TokenRejected("token_malformed", "not a compact JWS of canonical base64url segments");
  }
}

function codeOf(error: unknown): TokenRefusal {
  if (error instanceof errors.JWTExpired) return "token_expired";
  if (error instanceof errors.JWKSNoMatchingKey) return "token_unknown_key";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "token_bad_signature";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return "token_wrong_audience";
    if (error.claim === "iss") return "token_wrong_issuer";
    if (error.claim === "typ") return "token_wrong_type";
  }
  return "token_malformed"; // alg none or HS256, a crit header, bad JSON, missing claims, iat in the future...
}

function isInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

/** The claims jose checked, as the contract's type; anything else about their shape is malformed. */
function accessTokenClaims(payload: JWTPayload, maxLifetimeSeconds: number): AccessTokenClaims {
  const { iss, sub, aud, exp, iat, nbf, jti } = payload;
  const clientId = payload["client_id"];
  const scope = payload["scope"];
  if (!isInteger(exp) || !isInteger(iat) || (nbf !== undefined && !isInteger(nbf))) {
    throw new TokenRejected("token_malformed", "exp, iat and nbf must be integers");
  }
  if (exp - iat > maxLifetimeSeconds) throw new TokenRejected("token_malformed", "implausible lifetime");
  if (typeof iss !== "string" || typeof sub !== "string" || sub === "" || typeof aud !== "string") {
    throw new TokenRejected("token_malformed", "iss, sub and aud must be strings");
  }
  if (typeof jti !== "string" || jti.length < 16 || jti.length > 64) {
    throw new TokenRejected("token_malformed", "jti must be a string of 16 to 64 characters");
  }
  if (typeof clientId !== "string" || (scope !== undefined && typeof scope !== "string")) {
    throw new TokenRejected("token_malformed", "client_id and scope must be strings");
  }
  const claims: AccessTokenClaims = { ...payload, iss, sub, aud, exp, iat, jti, client_id: clientId };
  if (scope !== undefined) claims.scope = scope;
  return claims;
}

export interface AccessTokenVerifierOptions {
  /** Django's public base URL: every token's `iss`, and where its JWKS lives. */
  issuer: string;
  /** This service's name in Django's registry (`aud`). */
  audience?: string;
  /** Where Django publishes its keys, when not at `${issuer}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** A JWKS document to use instead of fetching `${issuer}/.well-known/jwks.json`. */
  jwks?: JSONWebKeySet;
  /** How long a fetched JWKS is used (Django's Cache-Control max-age: 300 s). */
  cacheMaxAgeMs?: number;
  /** After a fetch, how long a token naming an unknown kid is refused without fetching again. */
  cooldownMs?: number;
  timeoutMs?: number;
  /** Refuse tokens that claim to live longer (Django's access tokens: ≤ 300 s). */
  maxLifetimeSeconds?: number;
}

export interface AccessTokenVerifier {
  /** The token's claims, or a TokenRejected. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** The claims of a request's `Authorization: Bearer …` header, or an ApiError (401) to answer with. */
  authenticate(authorization: string | undefined): Promise<AccessTokenClaims>;
}

/** The token of an `Authorization: Bearer …` header, or the 401 `not_authenticated` to answer with. */
export function bearerToken(authorization: string | undefined): string {
  const match = authorization === undefined ? null : BEARER.exec(authorization);
  if (match === null) {
    throw new ApiError(401, "not_authenticated", "An access token is required (Authorization: Bearer …).", {
      headers: { "www-authenticate": "Bearer" },
    });
  }
  return match[1] ?? "";
}

export function accessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const { issuer, audience = AUDIENCE, maxLifetimeSeconds = 300 } = options;
  const keys: JWTVerifyGetKey =
    options.jwks === undefined
      ? createRemoteJWKSet(new URL(options.jwksUrl ?? `${issuer.replace(/\/+$/, "")}/.well-known/jwks.json`), {
          cacheMaxAge: options.cacheMaxAgeMs ?? 300_000,
          // A kid not seen yet means a rotation: fetch again, at most once per cooldown (protocol §5: 30-60 s).
          cooldownDuration: options.cooldownMs ?? 30_000,
          timeoutDuration: options.timeoutMs ?? 5_000,
        })
      : createLocalJWKSet(options.jwks);

  const getKey: JWTVerifyGetKey = async (header, token) => {
    // jose would take the only key of a one-key set for a token that names none; Django's always name one.
    if (typeof header.kid !== "string") throw new TokenRejected("token_unknown_key", "the token names no key");
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      // The JWKS could not be fetched (network, timeout, not 200, not a JWKS) or its key not used:
      // no key to check the token with, as the Python verifier says.
      throw new TokenRejected("token_unknown_key", "the JWKS could not be fetched, or its key not used");
    }
  };

  async function verify(token: string): Promise<AccessTokenClaims> {
    assertCanonical(token);
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer,
        audience,
        algorithms: [ALGORITHM], // never "none", never HS256 keyed with the public key
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: 5,
        maxTokenAge: maxLifetimeSeconds, // also refuses an iat in the future
        requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti"],
      });
      return accessTokenClaims(payload, maxLifetimeSeconds);
    } catch (error) {
      if (error instanceof TokenRejected) throw error;
      throw new TokenRejected(codeOf(error), error instanceof Error ? error.message : "refused");
    }
  }

  async function authenticate(authorization: string | undefined): Promise<AccessTokenClaims> {
    const token = bearerToken(authorization);
    try {
      return await verify(token);
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      throw new ApiError(401, error.code, MESSAGES[error.code], {
        headers: { "www-authenticate": 'Bearer error="invalid_token"' },
      });
    }
  }

  return { verify, authenticate };
}
