"""A job event's result inline, or a link to it: the one rule, for every service that sends events.

A job event carries its result while the event's JSON stays within ``EVENT_RESULT_MAX_BYTES``; a
larger one travels as ``result_url`` (the job in Django's API, which serves the full result), so a
pushed event always fits API Gateway's 128 KB WebSocket message with its envelope. Consumers
(the page, the webhooks service) fetch the job when they find a ``result_url``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from contracts.job_event import JobEvent

# Under API Gateway's 128 KB per WebSocket message, leaving room for the frame's envelope.
EVENT_RESULT_MAX_BYTES = 96 * 1024


def job_result_url(job_id: uuid.UUID, *, api_base_url: str = "") -> str:
    """Where the job (and its result) is read: relative to Django's API unless a base is given."""
    return f"{api_base_url}/api/jobs/{job_id}/"


@dataclass(frozen=True)
class FittedEvent:
    event: JobEvent
    # The event's JSON size when it carries its result inline (measured to decide); None when it
    # carries none (it had none, or a link now).
    inline_bytes: int | None


def event_result_fitted(
    event: JobEvent, *, max_bytes: int = EVENT_RESULT_MAX_BYTES, api_base_url: str = ""
) -> FittedEvent:
    """The event as it may travel: with its result if its JSON is at most ``max_bytes``, else with
    ``result_url`` instead. An event without a result is returned as it is, unmeasured."""
    if event.result is None:
        return FittedEvent(event, None)
    size = len(event.model_dump_json().encode())
    if size <= max_bytes:
        return FittedEvent(event, size)
    linked = event.model_copy(
        update={"result": None, "result_url": job_result_url(event.job_id, api_base_url=api_base_url)}
    )
    return FittedEvent(linked, None)
