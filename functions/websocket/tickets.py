"""Verifying Django's tickets and grant tokens without Django and without a network call.

A ticket is a compact JWS (JWT) signed with HS256; its header ``kid`` is the first 12 hex digits of
sha256(signing key), so during a rotation we know which of the two keys to try. Checked here:
the encoding (one spelling per token: canonical base64url, so no two strings verify as the same
ticket), the algorithm (exactly HS256: never ``none``, never a public-key algorithm), the key id,
the signature (constant-time), ``aud``, ``exp``, ``iat`` and ``nbf``, the lifetime cap, and the
claims' shape. Django's ``accounts.tickets.ticket_decode`` accepts exactly the same tokens (a
differential test in ``tests/security/test_ticket_fuzz.py`` holds both to it).
Single use (``jti``) is the connection store's job: it needs a conditional write.

Why not PyJWT: ``import jwt`` imports ``cryptography`` for algorithms we refuse anyway, ~80 ms on a
cold start that must stay within 15x a bare handler. The whole of HS256 verification is below, and
the tests check it against tokens minted with PyJWT by Django's own ``ticket_mint``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from typing import Any

from pydantic import ValidationError

from contracts.tickets import (
    TICKET_ALGORITHM,
    TICKET_CLOCK_SKEW_SECONDS,
    TICKET_MAX_TOKEN_LENGTH,
    TICKET_MAX_TTL_SECONDS,
    TicketClaims,
)

MAX_TOKEN_LENGTH = TICKET_MAX_TOKEN_LENGTH
CLOCK_SKEW_SECONDS = TICKET_CLOCK_SKEW_SECONDS
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


class TicketRejected(Exception):
    """Why a token is refused; ``code`` is one of contracts.ws_protocol.ConnectErrorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def key_id(key: str) -> str:
    """Same fingerprint as Django's ``accounts.tickets.key_id``."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def verification_keys(keys: tuple[str, ...]) -> dict[str, bytes]:
    return {key_id(key): key.encode() for key in keys if key}


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


def verify(token: str | None, *, audience: str, keys: dict[str, bytes], now: float | None = None) -> TicketClaims:
    """The claims of a valid token for ``audience``; raises ``TicketRejected`` otherwise."""
    if not token:
        raise TicketRejected("ticket_missing", "no ticket")
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TicketRejected("ticket_malformed", "not a compact JWS")
    header_segment, payload_segment, signature_segment = token.split(".")
    header = _json_object(_b64decode(header_segment))
    if header.get("alg") != TICKET_ALGORITHM:
        raise TicketRejected("ticket_malformed", "algorithm must be HS256")
    if "crit" in header:  # RFC 7515 §4.1.11: we understand no extensions, so must refuse them
        raise TicketRejected("ticket_malformed", "unsupported critical header")
    if header.get("b64", True) is False:  # RFC 7797: an unencoded payload, never ours (PyJWT refuses it too)
        raise TicketRejected("ticket_malformed", "unencoded payloads are not supported")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise TicketRejected("ticket_unknown_key", "unknown signing key")
    payload_bytes = _b64decode(payload_segment)  # before the HMAC: it checks the segment is ASCII
    expected = hmac.new(key, f"{header_segment}.{payload_segment}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _b64decode(signature_segment)):
        raise TicketRejected("ticket_bad_signature", "bad signature")

    payload = _json_object(payload_bytes)
    for name in ("sub", "aud", "jti", "topics"):
        if name not in payload:
            raise TicketRejected("ticket_malformed", f"missing claim {name}")
    exp, iat = _int_claim(payload, "exp"), _int_claim(payload, "iat")
    moment = time.time() if now is None else now
    if moment >= exp:
        raise TicketRejected("ticket_expired", "expired")
    if iat > moment + CLOCK_SKEW_SECONDS or exp - iat > TICKET_MAX_TTL_SECONDS:
        raise TicketRejected("ticket_malformed", "implausible lifetime")
    if "nbf" in payload and _int_claim(payload, "nbf") > moment:  # RFC 7519 §4.1.5, as PyJWT does
        raise TicketRejected("ticket_malformed", "not yet valid")
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


def topics_fit_user(claims: TicketClaims) -> bool:
    """Defence in depth: a ticket may grant its own user's topic, never another user's."""
    return all(not topic.startswith("user:") or topic == f"user:{claims.sub}" for topic in claims.topics)
