"""Verifying Django's tickets and grants without Django, without a secret and without a network call.

A ticket is a compact JWS (JWT) signed by Django with ES256; its header ``kid`` is the RFC 7638
thumbprint of the public key, looked up in Django's JWKS (``JwksKeys``, from this function's
configuration). Checked here: the encoding (one spelling per token: canonical base64url, so no two
strings verify as the same ticket), the algorithm (exactly ES256: never ``none``, never HS256 keyed
with a public key), ``typ``, the key id, the signature (64 bytes, r‖s), ``iss``, ``aud``, ``exp``,
``iat`` and ``nbf``, the lifetime cap, and the claims' shape. ``polyglot_auth.TokenVerifier`` (PyJWT)
accepts exactly the same tickets (``tests/security/test_ticket_fuzz.py`` holds both to it).
Single use (``jti``) is the connection store's job: it needs a conditional write.

``cryptography`` is imported by the first verification, not at import: the push function, which
shares this package, never verifies a ticket (docs/benchmarks.md has what the import costs).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from contracts.tickets import (
    TICKET_CLOCK_SKEW_SECONDS,
    TICKET_MAX_TOKEN_LENGTH,
    TICKET_MAX_TTL_SECONDS,
    TICKET_TYPE,
    TOKEN_ALGORITHM,
    TicketClaims,
)

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = TICKET_MAX_TOKEN_LENGTH
CLOCK_SKEW_SECONDS = TICKET_CLOCK_SKEW_SECONDS
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_COORDINATE_BYTES = 32  # P-256
# A token naming a key we lack makes us read the JWKS again, at most this often per container: a
# key published by a rotation is found, and a flood of made-up kids costs one read a minute.
JWKS_RELOAD_COOLDOWN_SECONDS = 60.0


class TicketRejected(Exception):
    """Why a token is refused; ``code`` is one of contracts.ws_protocol.ConnectErrorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class KeyLookup(Protocol):
    def get(self, kid: str) -> Any | None: ...


def _b64decode(segment: str) -> bytes:
    # urlsafe_b64decode silently skips characters outside the alphabet (and `$` in a regex matches
    # before a final newline): check the whole alphabet first. It also ignores the unused low bits
    # of a last character, so only the canonical spelling is accepted: one token, one string.
    if not _SEGMENT.fullmatch(segment):
        raise TicketRejected("ticket_malformed", "not base64url")
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise TicketRejected("ticket_malformed", "not base64url") from error
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != segment.encode("ascii"):
        raise TicketRejected("ticket_malformed", "not canonical base64url")
    return decoded


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # deep nesting: RecursionError
        raise TicketRejected("ticket_malformed", "not JSON") from error
    if not isinstance(value, dict):
        raise TicketRejected("ticket_malformed", "not a JSON object")
    return value


def _int_claim(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TicketRejected("ticket_malformed", f"{name} must be an integer")
    return value


def public_keys(jwks: dict[str, Any]) -> dict[str, Any]:
    """kid → public key, for the ES256 keys of a JWKS document; other keys are skipped (RFC 7517 §5)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    keys: dict[str, Any] = {}
    for entry in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        if not isinstance(entry, dict) or (entry.get("kty"), entry.get("crv")) != ("EC", "P-256"):
            continue
        if entry.get("alg", TOKEN_ALGORITHM) != TOKEN_ALGORITHM or entry.get("use", "sig") != "sig":
            continue
        try:
            x, y = (_b64decode(str(entry[name])) for name in ("x", "y"))
            if len(x) != _COORDINATE_BYTES or len(y) != _COORDINATE_BYTES or not isinstance(entry["kid"], str):
                continue
            numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1())
            keys[entry["kid"]] = numbers.public_key()
        except (KeyError, TicketRejected, ValueError):  # a point off the curve is a ValueError
            logger.warning("JWKS entry %r skipped: not a usable P-256 key", entry.get("kid"))
    return keys


class JwksKeys:
    """Django's public keys by ``kid``, read from ``load`` (the JWKS JSON of this function's
    configuration) and read again, at most once a cooldown, when asked for a kid it lacks."""

    def __init__(self, load: Callable[[bool], str], *, cooldown_seconds: float | None = None) -> None:
        self._load = load
        self._cooldown = JWKS_RELOAD_COOLDOWN_SECONDS if cooldown_seconds is None else cooldown_seconds
        self._lock = threading.Lock()
        self._keys = self._read(fresh=False)
        self._read_at = time.monotonic()

    def _read(self, *, fresh: bool) -> dict[str, Any]:
        try:
            return public_keys(json.loads(self._load(fresh)))
        except (ValueError, RecursionError) as error:
            logger.error("the configured JWKS is not JSON: %s", error)
            return {}

    def get(self, kid: str) -> Any | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            if time.monotonic() - self._read_at >= self._cooldown:
                self._read_at = time.monotonic()
                try:
                    self._keys = self._read(fresh=True)
                except Exception as error:  # SSM unreachable: keep the keys we have, refuse this kid
                    logger.warning("reading the JWKS again failed, keeping %d key(s): %s", len(self._keys), error)
        return self._keys.get(kid)


def _signature_valid(key: Any, signing_input: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    if len(signature) != 2 * _COORDINATE_BYTES:  # JWS ES256: r and s, 32 bytes each (RFC 7518 §3.4)
        return False
    r = int.from_bytes(signature[:_COORDINATE_BYTES], "big")
    s = int.from_bytes(signature[_COORDINATE_BYTES:], "big")
    try:
        key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify(token: str | None, *, audience: str, issuer: str, keys: KeyLookup, now: float | None = None) -> TicketClaims:
    """The claims of a valid token for ``audience`` from ``issuer``; raises ``TicketRejected`` otherwise."""
    if not token:
        raise TicketRejected("ticket_missing", "no ticket")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TicketRejected("ticket_malformed", "not a compact JWS")
    header_segment, payload_segment, signature_segment = token.split(".")
    header = _json_object(_b64decode(header_segment))
    if header.get("alg") != TOKEN_ALGORITHM:
        raise TicketRejected("ticket_malformed", "algorithm must be ES256")
    if "crit" in header:  # RFC 7515 §4.1.11: we understand no extensions, so must refuse them
        raise TicketRejected("ticket_malformed", "unsupported critical header")
    if header.get("b64", True) is False:  # RFC 7797: an unencoded payload, never ours (PyJWT refuses it too)
        raise TicketRejected("ticket_malformed", "unencoded payloads are not supported")
    typ = header.get("typ")  # RFC 8725 §3.11, explicit typing: an access token is no ticket
    if not isinstance(typ, str) or typ.lower() != TICKET_TYPE.lower():  # media types ignore case
        raise TicketRejected("ticket_malformed", "not a ticket (typ)")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) and kid else None
    if key is None:
        raise TicketRejected("ticket_unknown_key", "unknown signing key")
    payload_bytes = _b64decode(payload_segment)  # before the signature: it checks the segment is ASCII
    signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
    if not _signature_valid(key, signing_input, _b64decode(signature_segment)):
        raise TicketRejected("ticket_bad_signature", "bad signature")

    payload = _json_object(payload_bytes)
    for name in ("iss", "sub", "aud", "jti", "topics"):
        if name not in payload:
            raise TicketRejected("ticket_malformed", f"missing claim {name}")
    exp, iat = _int_claim(payload, "exp"), _int_claim(payload, "iat")
    moment = time.time() if now is None else now
    if moment >= exp:
        raise TicketRejected("ticket_expired", "expired")
    if iat > moment + CLOCK_SKEW_SECONDS or exp - iat > TICKET_MAX_TTL_SECONDS:
        raise TicketRejected("ticket_malformed", "implausible lifetime")
    if "nbf" in payload and _int_claim(payload, "nbf") > moment + CLOCK_SKEW_SECONDS:  # RFC 7519 §4.1.5
        raise TicketRejected("ticket_malformed", "not yet valid")
    if not issuer or payload["iss"] != issuer:
        raise TicketRejected("ticket_wrong_issuer", "issued by someone else")
    aud = payload["aud"]
    audiences = aud if isinstance(aud, list) else [aud]
    if not all(isinstance(item, str) for item in audiences):
        raise TicketRejected("ticket_malformed", "aud must be a string or a list of strings")
    if audience not in audiences:
        raise TicketRejected("ticket_wrong_audience", "wrong audience")
    if isinstance(aud, list):
        payload = {**payload, "aud": audience}
    try:
        return TicketClaims.model_validate(payload)
    except ValidationError as error:
        raise TicketRejected("ticket_malformed", "claims do not fit the ticket contract") from error


@dataclass(frozen=True)
class Trust:
    """What this function trusts: Django's issuer URL and Django's public keys."""

    issuer: str
    keys: KeyLookup

    def verify(self, token: str | None, *, audience: str, now: float | None = None) -> TicketClaims:
        return verify(token, audience=audience, issuer=self.issuer, keys=self.keys, now=now)


def topics_fit_user(claims: TicketClaims) -> bool:
    """Defence in depth: a ticket may grant its own user's topic, never another user's."""
    return all(not topic.startswith("user:") or topic == f"user:{claims.sub}" for topic in claims.topics)
