"""Claims of the tokens Django issues: WebSocket tickets and grants, and the rules every verifier applies.

Every token is a JWT signed by Django with ES256 (ECDSA P-256, SHA-256). Verifiers hold only the
public keys (Django's JWKS, RFC 7517): they can check a token, never mint one. A ticket lives at
most ``TICKET_MAX_TTL_SECONDS`` and its ``jti`` is accepted once, at ``$connect``.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
TOPIC_PATTERN = re.compile(r"^(user:[0-9]{1,20}|job:[0-9a-f-]{36})$")


class TicketClaims(BaseModel):
    """Registered claims plus the topics the holder may subscribe to."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    iss: str = Field(description="Django's public base URL: the issuer every verifier expects.")
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
