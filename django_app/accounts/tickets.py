"""WebSocket tickets and grants: short-lived ES256 JWTs that the websocket function verifies offline.

Claims are ``contracts.tickets.TicketClaims``, signed by ``issuer.token_sign``. A ticket is
redeemed in exactly one place, ``$connect`` (its ``jti`` is written once in the connection store);
introspection answers ``active: false`` for any ticket or grant, so no second use exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.conf import settings

from contracts.tickets import (
    GRANT_AUDIENCE,
    TICKET_AUDIENCE,
    TICKET_MAX_TTL_SECONDS,
    TICKET_TYPE,
    TicketClaims,
    user_topic,
)
from django_app.accounts.issuer import token_sign
from django_app.config.errors import ApiError


def _mint(*, audience: str, user_id: object, topics: list[str]) -> tuple[str, TicketClaims]:
    ttl = min(settings.TICKET_TTL_SECONDS, TICKET_MAX_TTL_SECONDS)
    token, payload = token_sign(
        audience=audience, subject=str(user_id), ttl_seconds=ttl, token_type=TICKET_TYPE, topics=topics
    )
    return token, TicketClaims.model_validate(payload)


def ticket_mint(*, user_id: object, job_ids: Iterable[uuid.UUID] = ()) -> tuple[str, TicketClaims]:
    """A ticket for ``$connect``: the user's own topic plus the named jobs (already checked as owned)."""
    return _mint(
        audience=TICKET_AUDIENCE,
        user_id=user_id,
        topics=[_user_topic(user_id), *(f"job:{job_id}" for job_id in job_ids)],
    )


def _user_topic(user_id: object) -> str:
    # Any AUTH_USER_MODEL key is sent as a string (an int as decimal, a UUID as text); a string key
    # with characters a topic cannot carry gets a clear refusal rather than a ticket that fails later.
    try:
        return user_topic(user_id)
    except ValueError:
        raise ApiError(
            status_code=409,
            code="user_id_unsupported",
            message="Your user id cannot be named in a WebSocket topic; ask an administrator.",
        ) from None


def grant_mint(*, user_id: object, job_ids: Iterable[uuid.UUID]) -> tuple[str, TicketClaims]:
    """A grant for topics a live connection's ticket lacked (a job submitted after connecting).

    The websocket function accepts it in a ``subscribe`` message when its ``sub`` is the
    connection's user; it cannot open a connection (other audience).
    """
    return _mint(audience=GRANT_AUDIENCE, user_id=user_id, topics=[f"job:{job_id}" for job_id in job_ids])
