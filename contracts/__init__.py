"""Messages that cross service lines, as versioned pydantic models.

This package depends on pydantic only: Django, the worker, the websocket function and services
in other languages (through the JSON Schemas in ``contracts/schemas/``) all read the same shapes.
"""

from __future__ import annotations

from contracts.job_event import TERMINAL_STATUSES, JobError, JobEvent, JobEventType, JobStatus
from contracts.job_message import JobMessage
from contracts.tickets import TICKET_AUDIENCE, TicketClaims
from contracts.ws_protocol import (
    ClientMessage,
    ErrorReply,
    EventPush,
    PingRequest,
    PongReply,
    SubscribedReply,
    SubscribeRequest,
    UnsubscribedReply,
    UnsubscribeRequest,
)

__all__ = [
    "TERMINAL_STATUSES",
    "TICKET_AUDIENCE",
    "ClientMessage",
    "ErrorReply",
    "EventPush",
    "JobError",
    "JobEvent",
    "JobEventType",
    "JobMessage",
    "JobStatus",
    "PingRequest",
    "PongReply",
    "SubscribeRequest",
    "SubscribedReply",
    "TicketClaims",
    "UnsubscribeRequest",
    "UnsubscribedReply",
]
