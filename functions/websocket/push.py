"""Lambda entry point of the ``push`` function.

Takes an SQS event from the push queue (each record a ``JobEvent``, delivered raw from the
job-events SNS topic) and returns ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}``
(the event source mapping sets ``ReportBatchItemFailures``): a record fails when some subscribed
connection could not be reached after retries, or when it is not a job event at all (it then ends
in the DLQ after ``maxReceiveCount`` receives). Gone connections (410) are deleted and never fail
a record. Records of a batch are pushed in order, so one job's events go out in ``seq`` order.
"""

from __future__ import annotations

import logging
import time
from functools import cache
from typing import Any

from pydantic import ValidationError

from contracts.job_event import JobEvent
from functions.websocket import config, deps
from functions.websocket.fanout import Fanout
from functions.websocket.pusher import push_event, topic_subscribers
from functions.websocket.sqs_events import BatchItemFailure, BatchResponse, SqsEvent, job_event_from_record

logger = logging.getLogger(__name__)

# Stop starting records this long before Lambda's timeout, so the answer always gets out (an
# invocation that times out sends the whole batch back).
_SAFETY_SECONDS = 3.0
_DEFAULT_BUDGET_SECONDS = 25.0


@cache
def fanout() -> Fanout:
    settings = config.settings()
    if not settings.management_endpoint:
        raise config.ConfigError("MANAGEMENT_API_ENDPOINT is required by the push function")
    return Fanout(deps.management(), concurrency=settings.push_concurrency)


def _deadline(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    budget = remaining() / 1000 if callable(remaining) else _DEFAULT_BUDGET_SECONDS
    return time.monotonic() + max(0.0, budget - _SAFETY_SECONDS)


def handler(event: SqsEvent, context: Any) -> BatchResponse:
    deadline = _deadline(context)
    settings = config.settings()
    failures: list[BatchItemFailure] = []
    events: list[tuple[str, JobEvent]] = []
    for record in event.get("Records", []):
        message_id = record.get("messageId", "")
        try:
            events.append((message_id, job_event_from_record(record)))
        except (ValueError, ValidationError):  # pydantic's ValidationError is a ValueError; named for clarity
            logger.error("record %s is not a job event: sent back, to end in the DLQ", message_id)
            failures.append({"itemIdentifier": message_id})
    subscribers = topic_subscribers((job_event for _, job_event in events), store=deps.store())
    for message_id, job_event in events:
        if time.monotonic() >= deadline:
            failures.append({"itemIdentifier": message_id})
            continue
        outcome = push_event(
            job_event,
            subscribers=subscribers,
            store=deps.store(),
            fanout=fanout(),
            api_base_url=settings.api_base_url,
            deadline=deadline,
        )
        if not outcome.ok:
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def reset() -> None:
    """Forget the container's objects (tests change the environment between cases)."""
    if fanout.cache_info().currsize:
        fanout().close()
    fanout.cache_clear()
    deps.reset()
