"""The WebSocket client protocol: what a browser sends and what the server answers.

Client → server frames carry ``action`` (API Gateway routes on ``$request.body.action``);
server → client frames carry ``type``. ``docs/protocol.md`` describes the session; the JSON Schemas
in ``contracts/schemas/`` are generated from these models (``python -m contracts.export_schemas``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.job_event import JobEvent

TOPIC_FIELD = Field(min_length=1, max_length=64)


class SubscribeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["subscribe"]
    topic: str = TOPIC_FIELD
    grant: str | None = Field(
        default=None, max_length=2048, description="A grant token from Django for a topic the ticket lacked."
    )


class UnsubscribeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["unsubscribe"]
    topic: str = TOPIC_FIELD


class PingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["ping"]
    id: str | None = Field(default=None, max_length=64)


ClientMessage = Annotated[SubscribeRequest | UnsubscribeRequest | PingRequest, Field(discriminator="action")]


class SubscribedReply(BaseModel):
    type: Literal["subscribed"] = "subscribed"
    topic: str


class UnsubscribedReply(BaseModel):
    type: Literal["unsubscribed"] = "unsubscribed"
    topic: str


class PongReply(BaseModel):
    type: Literal["pong"] = "pong"
    id: str | None = None


# A client frame larger than this is answered with ``frame_too_large``: every valid client frame is
# far smaller (a topic, an action, a grant token), and API Gateway itself closes the socket (1009)
# on anything over 128 KB.
MAX_CLIENT_FRAME_BYTES = 8 * 1024

ErrorCode = Literal[
    "invalid_json",  # the frame is not a JSON object (or is binary)
    "invalid_message",  # JSON, but no ``action`` or fields that do not fit the action
    "unknown_action",  # an ``action`` this server does not know
    "frame_too_large",  # over MAX_CLIENT_FRAME_BYTES
    "topic_not_granted",  # neither the ticket nor a grant covers the topic
    "grant_invalid",  # the grant token is malformed, expired, for another user or another audience
    "not_connected",  # the server no longer knows this connection (expired): reconnect with a new ticket
    "unavailable",  # a backend was briefly unavailable: retry the same frame
    "internal",
]

# Why ``$connect`` refused the upgrade. The browser only sees the HTTP status (401 or 403); the code
# is in the response body for logs, the local gateway and non-browser clients.
ConnectErrorCode = Literal[
    "ticket_missing",  # 401: no ``ticket`` query parameter
    "ticket_malformed",  # 401: not a compact JWS, or claims that do not fit TicketClaims
    "ticket_unknown_key",  # 401: ``kid`` names no key of Django's JWKS
    "ticket_bad_signature",  # 401
    "ticket_expired",  # 401
    "ticket_wrong_audience",  # 401: e.g. a grant token used as a ticket
    "ticket_wrong_issuer",  # 401: ``iss`` is not the issuer this function trusts
    "ticket_replayed",  # 403: the ``jti`` was already used
    "ticket_topics_invalid",  # 403: a topic the ticket's own user may not be granted
    "user_inactive",  # 403: the user was deactivated after the ticket was minted
    "unavailable",  # 503: the connection store could not be reached; retry with a new ticket
]


class ErrorReply(BaseModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str


class EventPush(BaseModel):
    type: Literal["event"] = "event"
    topic: str
    event: JobEvent


ServerMessage = Annotated[
    SubscribedReply | UnsubscribedReply | PongReply | ErrorReply | EventPush, Field(discriminator="type")
]


class ConnectError(BaseModel):
    code: ConnectErrorCode
    message: str


class ConnectRefusal(BaseModel):
    """The body of a refused ``$connect`` (status 401, 403 or 503)."""

    error: ConnectError
