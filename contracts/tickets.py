"""Claims of the WebSocket ticket that Django mints and the websocket function verifies.

A ticket is a JWT signed with HS256 by a key both sides read from the environment or SSM.
It lives at most ``TICKET_MAX_TTL_SECONDS`` and its ``jti`` is accepted once.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

TICKET_AUDIENCE = "ws"
GRANT_AUDIENCE = "ws-grant"
TICKET_ALGORITHM = "HS256"
TICKET_MAX_TTL_SECONDS = 60
# Verifiers refuse longer tokens unread, and allow this much clock skew on ``iat`` (none on ``exp``):
# the clocks of Django's and the websocket function's Lambdas are NTP-synced.
TICKET_MAX_TOKEN_LENGTH = 4096
TICKET_CLOCK_SKEW_SECONDS = 5
TOPIC_PATTERN = re.compile(r"^(user:[0-9]{1,20}|job:[0-9a-f-]{36})$")


class TicketClaims(BaseModel):
    """Registered claims plus the topics the holder may subscribe to."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: str = Field(description="The user id the ticket was minted for.")
    aud: str
    iat: int
    exp: int
    jti: str = Field(min_length=16, max_length=64)
    topics: list[str] = Field(max_length=100)

    @field_validator("topics")
    @classmethod
    def _topics_are_well_formed(cls, topics: list[str]) -> list[str]:
        for topic in topics:
            if not TOPIC_PATTERN.match(topic):
                raise ValueError(f"malformed topic {topic!r}")
        return topics
