// Standard Webhooks signatures. The vectors are the spec's, from the test suites of its reference
// libraries (standard-webhooks/standard-webhooks: libraries/python/tests/test_webhooks.py and
// libraries/javascript/src/webhook.test.ts).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  generateSecret,
  secretKey,
  sign,
  signedHeaders,
  TOLERANCE_SECONDS,
  verify,
  WebhookVerificationError,
  type SignatureRefusal,
} from "../src/signature.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TIMESTAMP = 1614265330;
const PAYLOAD = '{"test": 2432232314}';
const EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// The spec suites' "invalid signature": the expected one with its last base64 digit changed.
const INVALID = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
const BOGUS = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
const AT_VECTOR = new Date(TIMESTAMP * 1000);

function headers(signature: string, timestamp: number = TIMESTAMP): Record<string, string> {
  return { "webhook-id": MSG_ID, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
}

function refused(code: SignatureRefusal): (error: unknown) => boolean {
  return (error) => error instanceof WebhookVerificationError && error.code === code;
}

test("sign: the spec's vector", () => {
  assert.equal(sign({ secret: SECRET, id: MSG_ID, timestamp: TIMESTAMP, body: PAYLOAD }), EXPECTED);
  assert.equal(sign({ secret: SECRET, id: MSG_ID, timestamp: AT_VECTOR, body: PAYLOAD }), EXPECTED);
  assert.equal(sign({ secret: SECRET, id: MSG_ID, timestamp: TIMESTAMP, body: Buffer.from(PAYLOAD) }), EXPECTED);
});

test("sign: whsec_ is optional", () => {
  assert.equal(sign({ secret: SECRET.slice("whsec_".length), id: MSG_ID, timestamp: TIMESTAMP, body: PAYLOAD }), EXPECTED);
});

test("signedHeaders: the three headers", () => {
  assert.deepEqual(signedHeaders({ secret: SECRET, id: MSG_ID, timestamp: TIMESTAMP, body: PAYLOAD }), headers(EXPECTED));
});

test("verify: the spec's vector verifies and returns the message id", () => {
  assert.equal(verify({ secret: SECRET, headers: headers(EXPECTED), body: PAYLOAD, now: AT_VECTOR }), MSG_ID);
});

test("verify: the spec's invalid signature is refused", () => {
  assert.throws(
    () => verify({ secret: SECRET, headers: headers(INVALID), body: PAYLOAD, now: AT_VECTOR }),
    refused("signature_mismatch"),
  );
});

test("verify: several signatures, one valid (the spec's multi-signature case)", () => {
  const signatures = [`v1,${BOGUS}`, `v2,${BOGUS}`, EXPECTED, `v1,${BOGUS}`].join(" ");
  assert.equal(verify({ secret: SECRET, headers: headers(signatures), body: PAYLOAD, now: AT_VECTOR }), MSG_ID);
});

test("verify: only v1 signatures count", () => {
  const [, encoded] = EXPECTED.split(",");
  for (const signature of [`v2,${String(encoded)}`, `v1a,${String(encoded)}`, String(encoded), `v1,${BOGUS}`, "", "v1,"]) {
    assert.throws(
      () => verify({ secret: SECRET, headers: headers(signature), body: PAYLOAD, now: AT_VECTOR }),
      refused("signature_mismatch"),
      signature,
    );
  }
});

test("verify: another body, id or secret does not verify", () => {
  const now = AT_VECTOR;
  assert.throws(() => verify({ secret: SECRET, headers: headers(EXPECTED), body: '{"test": 2432232315}', now }), refused("signature_mismatch"));
  assert.throws(
    () => verify({ secret: SECRET, headers: { ...headers(EXPECTED), "webhook-id": "msg_other" }, body: PAYLOAD, now }),
    refused("signature_mismatch"),
  );
  assert.throws(() => verify({ secret: generateSecret(), headers: headers(EXPECTED), body: PAYLOAD, now }), refused("signature_mismatch"));
});

test("verify: each missing header is refused", () => {
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const partial = Object.fromEntries(Object.entries(headers(EXPECTED)).filter(([header]) => header !== name));
    assert.throws(
      () => verify({ secret: SECRET, headers: partial, body: PAYLOAD, now: AT_VECTOR }),
      refused("signature_headers_missing"),
      name,
    );
  }
});

test("verify: a timestamp that is not unix seconds is refused", () => {
  for (const timestamp of ["hello", "", "1614265330.5", "-1614265330", " 1614265330", "0x603"]) {
    assert.throws(
      () => verify({ secret: SECRET, headers: { ...headers(EXPECTED), "webhook-timestamp": timestamp }, body: PAYLOAD, now: AT_VECTOR }),
      refused("signature_timestamp_invalid"),
      timestamp,
    );
  }
});

test("verify: timestamps more than 5 minutes off are refused, either way", () => {
  const now = new Date();
  const seconds = Math.floor(now.getTime() / 1000);
  const at = (timestamp: number): string =>
    verify({ secret: SECRET, headers: headers(sign({ secret: SECRET, id: MSG_ID, timestamp, body: PAYLOAD }), timestamp), body: PAYLOAD, now });
  assert.equal(at(seconds - TOLERANCE_SECONDS), MSG_ID);
  assert.equal(at(seconds + TOLERANCE_SECONDS), MSG_ID);
  assert.throws(() => at(seconds - TOLERANCE_SECONDS - 1), refused("signature_timestamp_too_old"));
  assert.throws(() => at(seconds + TOLERANCE_SECONDS + 1), refused("signature_timestamp_too_new"));
  // The spec's vector is from 2021: refused against today's clock.
  assert.throws(() => verify({ secret: SECRET, headers: headers(EXPECTED), body: PAYLOAD }), refused("signature_timestamp_too_old"));
});

test("verify: header names are case-insensitive", () => {
  const mixed = { "Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": String(TIMESTAMP), "Webhook-Signature": EXPECTED };
  assert.equal(verify({ secret: SECRET, headers: mixed, body: PAYLOAD, now: AT_VECTOR }), MSG_ID);
});

test("secrets: padded or not, as in the spec's suites; outside 24 to 64 bytes refused", () => {
  // The spec's secret that needs two padding characters (25 bytes): with and without them.
  const unpadded = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr";
  assert.deepEqual(secretKey(unpadded), secretKey(`${unpadded}==`));
  assert.deepEqual(secretKey(`whsec_${unpadded}`), secretKey(`${unpadded}==`));
  assert.equal(secretKey(unpadded).length, 25);
  const signed = sign({ secret: unpadded, id: MSG_ID, timestamp: TIMESTAMP, body: PAYLOAD });
  assert.equal(verify({ secret: `whsec_${unpadded}==`, headers: headers(signed), body: PAYLOAD, now: AT_VECTOR }), MSG_ID);
  // The spec's suites also accept an empty-prefixed or 23-byte secret; a signer here never makes one.
  for (const secret of ["", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "whsec_not base64!", Buffer.alloc(65).toString("base64")]) {
    assert.throws(() => secretKey(secret), RangeError, secret);
  }
});

test("sign: a message id with a dot, or none, is refused (the signed content is dot-delimited)", () => {
  for (const id of ["", "msg.1"]) {
    assert.throws(() => sign({ secret: SECRET, id, timestamp: TIMESTAMP, body: PAYLOAD }), RangeError);
  }
  assert.throws(() => sign({ secret: SECRET, id: MSG_ID, timestamp: 1.5, body: PAYLOAD }), RangeError);
});

test("generateSecret: whsec_ and 32 random bytes by default; 24 to 64 allowed", () => {
  const secret = generateSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);
  assert.equal(secretKey(secret).length, 32);
  assert.notEqual(generateSecret(), secret);
  assert.equal(secretKey(generateSecret(24)).length, 24);
  assert.equal(secretKey(generateSecret(64)).length, 64);
  assert.throws(() => generateSecret(16), RangeError);
  assert.throws(() => generateSecret(65), RangeError);
  const now = new Date();
  const signed = signedHeaders({ secret, id: "msg_round_trip", timestamp: now, body: "{}" });
  assert.equal(verify({ secret, headers: { ...signed }, body: "{}", now }), "msg_round_trip");
});
