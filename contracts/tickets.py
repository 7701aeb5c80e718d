"""Claims of the tokens Django issues: WebSocket tickets and grants, and the rules every verifier applies.

Every token is a JWT signed by Django with ES256 (ECDSA P-256, SHA-256). Verifiers hold only the
public keys (Django's JWKS, RFC 7517): they can check a token, never mint one. A ticket lives at
most ``TICKET_MAX_TTL_SECONDS`` and its ``jti`` is accepted once, at ``$connect``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# The one algorithm Django signs with and verifiers accept: API Gateway's REST JWT authorizers,
# jose (Node), PyJWT and aws-jwt-verify all take ES256; EdDSA is refused by the gateways.
TOKEN_ALGORITHM = "ES256"  # noqa: S105 - an algorithm name, not a secret
TICKET_AUDIENCE = "ws"
GRANT_AUDIENCE = "ws-grant"
# Audiences only Django's own WebSocket flow uses: the token endpoint never issues them.
RESERVED_AUDIENCES = frozenset({TICKET_AUDIENCE, GRANT_AUDIENCE})
TICKET_TYPE = "JWT"
TICKET_MAX_TTL_SECONDS = 60
# Verifiers refuse longer tokens unread, and allow this much clock skew on ``iat`` (none on ``exp``):
# the clocks of Django's and the websocket function's Lambdas are NTP-synced.
TICKET_MAX_TOKEN_LENGTH = 4096
TICKET_CLOCK_SKEW_SECONDS = 5
# A topic is ``user:<user id>`` or ``job:<job id>``. A user id is the primary key of Django's user
# model (AUTH_USER_MODEL) as a string: a decimal integer, a UUID, or any other key made of these
# characters. No ``:``, space or control character, which would blur where a topic's parts end; at
# most 59 characters, so that a topic fits the 64 of a client's subscribe frame (ws_protocol.py).
USER_ID_PATTERN = r"[A-Za-z0-9._@+=~-]{1,59}"
TOPIC_REGEX = rf"^(user:{USER_ID_PATTERN}|job:[0-9a-f-]{{36}})$"
TOPIC_PATTERN = re.compile(TOPIC_REGEX)
# In the JSON Schema too, so verifiers in other languages check topics as this module does.
Topic = Annotated[str, StringConstraints(pattern=TOPIC_REGEX)]


def topic_is_valid(topic: str) -> bool:
    # fullmatch: with re.match, ``$`` would also accept a topic followed by a newline.
    return TOPIC_PATTERN.fullmatch(topic) is not None


def user_topic(user_id: object) -> str:
    """``user:<id>`` for a user id (an int, a UUID, a string key); ValueError for an id no topic can name."""
    topic = f"user:{user_id}"
    if not topic_is_valid(topic):
        raise ValueError(f"user id {str(user_id)[:80]!r} cannot be named in a topic ({USER_ID_PATTERN})")
    return topic


class TicketClaims(BaseModel):
    """Registered claims plus the topics the holder may subscribe to."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    iss: str = Field(description="Django's public base URL: the issuer every verifier expects.")
    sub: str = Field(description="The user id the ticket was minted for: the user model's primary key as a string.")
    aud: str
    iat: int
    exp: int
    jti: str = Field(min_length=16, max_length=64)
    topics: list[Topic] = Field(max_length=100)
