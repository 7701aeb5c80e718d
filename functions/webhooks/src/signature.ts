/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/, "Symmetric" scheme), with
 * node:crypto only.
 *
 * A delivery carries `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`:
 * space-separated `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the bytes the
 * base64 after `whsec_` encodes. Receivers refuse timestamps more than 5 minutes off (replays).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SECRET_PREFIX = "whsec_";
/** How far a timestamp may be from the receiver's clock, either way. */
export const TOLERANCE_SECONDS = 5 * 60;
// The spec's range for a symmetric signing secret.
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const HMAC_BYTES = 32;

export type SignatureRefusal =
  | "signature_headers_missing"
  | "signature_timestamp_invalid"
  | "signature_timestamp_too_old"
  | "signature_timestamp_too_new"
  | "signature_mismatch";

/** A delivery that does not verify, with a stable code. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  readonly code: SignatureRefusal;

  constructor(code: SignatureRefusal, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** A new signing secret: `whsec_` and the base64 of `bytes` random bytes (24 to 64; 32 by default). */
export function generateSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new RangeError(`a signing secret has ${String(MIN_SECRET_BYTES)} to ${String(MAX_SECRET_BYTES)} bytes`);
  }
  return SECRET_PREFIX + randomBytes(bytes).toString("base64");
}

/** The HMAC key a secret encodes; `whsec_` is optional, as in the spec's libraries. */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  // Buffer.from skips characters outside the alphabet: check the spelling first.
  if (!BASE64.test(encoded)) throw new RangeError("a signing secret is base64, optionally after whsec_");
  const key = Buffer.from(encoded, "base64");
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new RangeError(`a signing secret has ${String(MIN_SECRET_BYTES)} to ${String(MAX_SECRET_BYTES)} bytes`);
  }
  return key;
}

function unixSeconds(timestamp: Date | number): number {
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError("a timestamp is whole unix seconds");
  return seconds;
}

function hmac(key: Buffer, id: string, timestamp: string, body: string | Uint8Array): Buffer {
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
}

export interface SignInput {
  secret: string;
  /** The message id: stable across retries of one delivery, so receivers can drop duplicates. */
  id: string;
  timestamp: Date | number;
  /** The exact bytes sent: a receiver verifies what it received, not a re-serialisation. */
  body: string | Uint8Array;
}

/** The `webhook-signature` value for one message: `v1,<base64>`. */
export function sign({ secret, id, timestamp, body }: SignInput): string {
  // The signed content is dot-delimited: an id with a dot could shift the boundaries (the spec's advice).
  if (id === "" || id.includes(".")) throw new RangeError("a message id is non-empty and has no '.'");
  return `v1,${hmac(secretKey(secret), id, String(unixSeconds(timestamp)), body).toString("base64")}`;
}

/** The three headers of a signed delivery. */
export function signedHeaders(input: SignInput): WebhookHeaders {
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(unixSeconds(input.timestamp)),
    "webhook-signature": sign(input),
  };
}

function header(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const exact = headers[name];
  if (exact !== undefined) return exact;
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export interface VerifyInput {
  secret: string;
  /** Request headers; names are matched case-insensitively. */
  headers: Readonly<Record<string, string | undefined>>;
  body: string | Uint8Array;
  /** The receiver's clock (tests). */
  now?: Date;
}

/**
 * Checks a delivery's headers against its body; throws a WebhookVerificationError, or returns the
 * message id (for idempotency: a receiver processes each id once).
 */
export function verify({ secret, headers, body, now = new Date() }: VerifyInput): string {
  const key = secretKey(secret);
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (id === undefined || id === "" || timestamp === undefined || signatures === undefined) {
    throw new WebhookVerificationError("signature_headers_missing", "webhook-id, webhook-timestamp and webhook-signature are required");
  }
  if (!TIMESTAMP.test(timestamp)) {
    throw new WebhookVerificationError("signature_timestamp_invalid", "webhook-timestamp is unix seconds");
  }
  const skew = Number(timestamp) - Math.floor(now.getTime() / 1000);
  if (skew < -TOLERANCE_SECONDS) throw new WebhookVerificationError("signature_timestamp_too_old", "the message is too old");
  if (skew > TOLERANCE_SECONDS) throw new WebhookVerificationError("signature_timestamp_too_new", "the message is from the future");

  const expected = hmac(key, id, timestamp, body);
  for (const candidate of signatures.split(" ")) {
    const comma = candidate.indexOf(",");
    if (comma === -1 || candidate.slice(0, comma) !== "v1") continue; // other schemes (v1a, …) are not ours
    const encoded = candidate.slice(comma + 1);
    if (!BASE64.test(encoded)) continue;
    const given = Buffer.from(encoded, "base64");
    // timingSafeEqual needs equal lengths; the length of an HMAC is no secret.
    if (given.length === HMAC_BYTES && timingSafeEqual(given, expected)) return id;
  }
  throw new WebhookVerificationError("signature_mismatch", "no signature matches");
}
