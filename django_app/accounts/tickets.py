"""WebSocket tickets: short-lived JWTs that the websocket function verifies without calling Django.

Claims are ``contracts.tickets.TicketClaims``. Signed with ``TICKET_SIGNING_KEY``; the key id
(``kid``) lets verifiers accept the previous key during a rotation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
import uuid
from collections.abc import Iterable

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError

from contracts.tickets import (
    GRANT_AUDIENCE,
    TICKET_ALGORITHM,
    TICKET_AUDIENCE,
    TICKET_CLOCK_SKEW_SECONDS,
    TICKET_MAX_TOKEN_LENGTH,
    TICKET_MAX_TTL_SECONDS,
    TicketClaims,
)
from django_app.accounts.models import RedeemedTicket


def key_id(key: str) -> str:
    """A short public fingerprint of a signing key, sent as the JWT ``kid``."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _verification_keys() -> dict[str, str]:
    keys = [settings.TICKET_SIGNING_KEY, settings.TICKET_SIGNING_KEY_PREVIOUS]
    return {key_id(key): key for key in keys if key}


def _mint(*, audience: str, user_id: int, topics: list[str]) -> tuple[str, TicketClaims]:
    now = int(time.time())
    ttl = min(settings.TICKET_TTL_SECONDS, TICKET_MAX_TTL_SECONDS)
    claims = TicketClaims(
        sub=str(user_id), aud=audience, iat=now, exp=now + ttl, jti=secrets.token_urlsafe(24), topics=topics
    )
    token = jwt.encode(
        claims.model_dump(),
        settings.TICKET_SIGNING_KEY,
        algorithm=TICKET_ALGORITHM,
        headers={"kid": key_id(settings.TICKET_SIGNING_KEY)},
    )
    return token, claims


def ticket_mint(*, user_id: int, job_ids: Iterable[uuid.UUID] = ()) -> tuple[str, TicketClaims]:
    """A ticket for ``$connect``: the user's own topic plus the named jobs (already checked as owned)."""
    return _mint(
        audience=TICKET_AUDIENCE,
        user_id=user_id,
        topics=[f"user:{user_id}", *(f"job:{job_id}" for job_id in job_ids)],
    )


def grant_mint(*, user_id: int, job_ids: Iterable[uuid.UUID]) -> tuple[str, TicketClaims]:
    """A grant for topics a live connection's ticket lacked (a job submitted after connecting).

    The websocket function accepts it in a ``subscribe`` message when its ``sub`` is the
    connection's user; it cannot open a connection (other audience).
    """
    return _mint(audience=GRANT_AUDIENCE, user_id=user_id, topics=[f"job:{job_id}" for job_id in job_ids])


def _strict_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def ticket_decode(*, token: str) -> TicketClaims | None:
    """The claims of a well-signed, unexpired ticket for our audience; None otherwise.

    Accepts exactly what the websocket function's ``tickets.verify`` accepts (docs/protocol.md §5;
    tests/security/test_ticket_fuzz.py compares the two): PyJWT checks the encoding, algorithm,
    signature, ``exp``, ``nbf`` and ``aud``; the rest of the protocol's rules, which PyJWT does not
    know or applies differently (it takes "123" or 123.0 as a time, allows ``crit: ["b64"]``, has
    no lifetime cap and no skew on ``iat``), are checked here.
    """
    if len(token) > TICKET_MAX_TOKEN_LENGTH:
        return None
    try:
        header = jwt.get_unverified_header(token)
        if "crit" in header:
            return None
        kid = header.get("kid")
        key = _verification_keys().get(kid) if isinstance(kid, str) else None
        if key is None:
            return None
        payload = jwt.decode(
            token,
            key,
            algorithms=[TICKET_ALGORITHM],
            audience=TICKET_AUDIENCE,
            options={"require": ["exp", "iat", "jti", "sub", "aud"], "verify_iat": False},
        )
        if not all(_strict_int(payload.get(name)) for name in ("exp", "iat")):
            return None
        if "nbf" in payload and not _strict_int(payload["nbf"]):
            return None
        if payload["iat"] > time.time() + TICKET_CLOCK_SKEW_SECONDS:
            return None
        if payload["exp"] - payload["iat"] > TICKET_MAX_TTL_SECONDS:
            return None
        if isinstance(payload["aud"], list):  # PyJWT checked it names our audience
            payload["aud"] = TICKET_AUDIENCE
        return TicketClaims.model_validate(payload)
    except (jwt.PyJWTError, ValidationError, ValueError, RecursionError):  # deep JSON: RecursionError
        return None


def ticket_redeem(*, claims: TicketClaims) -> bool:
    """Marks the ticket used; False when it already was. Expired rows are purged by the sweep."""
    expires_at = dt.datetime.fromtimestamp(claims.exp, tz=dt.UTC)
    try:
        with transaction.atomic():
            RedeemedTicket.objects.create(jti=claims.jti, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def redeemed_tickets_purge() -> int:
    deleted, _ = RedeemedTicket.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
