// Verifying a token Django issued, from Node, with Django's public keys alone (docs/protocol.md §5).
//
//   import { djangoVerifier } from "./verify.mjs";
//   const verify = djangoVerifier({ issuer: "https://api.example.com", audience: "webhooks", type: "at+jwt" });
//   const claims = await verify(token); // or throws a VerifyError with a stable `code`
//
// The JWKS is fetched from the issuer and cached by jose; a token naming a key not seen yet (after a
// rotation) makes it fetch again, at most once per cooldown. Nothing here can mint a token.
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from "jose";

export const ALGORITHM = "ES256";

/** A refusal, with the same codes as the Python verifiers (polyglot_auth.TokenRejected). */
export class VerifyError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

const CANONICAL_SEGMENT = /^[A-Za-z0-9_-]+$/;

// jose decodes base64url leniently; a token has one spelling only (re-encode and compare).
function assertCanonical(token) {
  const parts = typeof token === "string" ? token.split(".") : [];
  const canonical = (segment) =>
    CANONICAL_SEGMENT.test(segment) && Buffer.from(segment, "base64url").toString("base64url") === segment;
  if (token.length > 4096 || parts.length !== 3 || !parts.every(canonical)) {
    throw new VerifyError("token_malformed", "not a compact JWS of canonical base64url segments");
  }
}

function codeOf(error) {
  if (error instanceof errors.JWTExpired) return "token_expired";
  if (error instanceof errors.JWKSNoMatchingKey) return "token_unknown_key";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "token_bad_signature";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return "token_wrong_audience";
    if (error.claim === "iss") return "token_wrong_issuer";
    if (error.claim === "typ") return "token_wrong_type";
  }
  return "token_malformed"; // alg none or HS256, a crit header, bad JSON, missing claims...
}

/**
 * @param {object} options
 * @param {string} options.issuer Django's public base URL: every token's `iss`.
 * @param {string} options.audience This service's name in Django's registry (`aud`).
 * @param {string} [options.type] The `typ` header to require: "at+jwt" for access tokens, "JWT" for tickets.
 * @param {object} [options.jwks] A JWKS document; by default fetched from `${issuer}/.well-known/jwks.json`.
 * @param {number} [options.maxLifetimeSeconds] Refuse tokens that claim to live longer (Django's: ≤ 300 s).
 */
export function djangoVerifier({ issuer, audience, type, jwks, maxLifetimeSeconds = 300 }) {
  const keys = jwks
    ? createLocalJWKSet(jwks)
    : createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`), {
        cacheMaxAge: 300_000, // Django's Cache-Control max-age
        cooldownDuration: 30_000, // at most one refetch per 30 s for unknown kids
        timeoutDuration: 5_000,
      });
  return async function verify(token) {
    assertCanonical(token);
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        algorithms: [ALGORITHM], // never "none", never HS256 keyed with the public key
        typ: type,
        clockTolerance: 5,
        requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti"],
      });
      for (const name of ["exp", "iat", "nbf"]) {
        if (name in payload && !Number.isSafeInteger(payload[name])) {
          throw new VerifyError("token_malformed", `${name} must be an integer`);
        }
      }
      if (payload.exp - payload.iat > maxLifetimeSeconds) {
        throw new VerifyError("token_malformed", "implausible lifetime");
      }
      return payload;
    } catch (error) {
      if (error instanceof VerifyError) throw error;
      throw new VerifyError(codeOf(error), error.message);
    }
  };
}
