"""The WebSocket client protocol: what a browser sends and what the server answers.

Client → server frames carry ``action`` (API Gateway routes on ``$request.body.action``);
server → client frames carry ``type``.
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


ErrorCode = Literal[
    "invalid_json", "invalid_message", "unknown_action", "frame_too_large", "topic_not_granted", "internal"
]


class ErrorReply(BaseModel):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str


class EventPush(BaseModel):
    type: Literal["event"] = "event"
    topic: str
    event: JobEvent
