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


def ticket_decode(*, token: str) -> TicketClaims | None:
    """The claims of a well-signed, unexpired ticket for our audience; None otherwise."""
    if len(token) > 4096:
        return None
    try:
        header = jwt.get_unverified_header(token)
        key = _verification_keys().get(str(header.get("kid", "")))
        if key is None:
            return None
        payload = jwt.decode(
            token,
            key,
            algorithms=[TICKET_ALGORITHM],
            audience=TICKET_AUDIENCE,
            options={"require": ["exp", "iat", "jti", "sub", "aud"]},
        )
        return TicketClaims.model_validate(payload)
    except (jwt.PyJWTError, ValidationError, ValueError):
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
