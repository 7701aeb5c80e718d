"""Lambda entry point of the ``push`` function.

Takes an SQS event from the push queue (each record a ``JobEvent``, or a ``UserEvent`` whose
user's connections are closed, delivered raw from the job-events SNS topic) and returns
``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`` (the event source mapping sets
``ReportBatchItemFailures``): a record fails when some subscribed connection could not be reached
after retries, or when it is neither a job nor a user event (it then ends
in the DLQ after ``maxReceiveCount`` receives). Gone connections (410) are deleted and never fail
a record. One job's records are pushed in order, so its events go out in ``seq`` order; different
jobs' records are pushed concurrently (a batch of ten events for ten jobs, each to ten connections,
no longer waits for each event's slowest post in turn).
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from pydantic import ValidationError

from contracts.job_event import JobEvent
from contracts.user_event import UserEvent
from functions.websocket import config, deps
from functions.websocket.fanout import Fanout
from functions.websocket.pusher import push_event, topic_subscribers
from functions.websocket.sqs_events import BatchItemFailure, BatchResponse, SqsEvent, event_from_record
from functions.websocket.user_events import user_deactivated

logger = logging.getLogger(__name__)

# Jobs whose events are pushed at once; each job's fan-out has the Fanout's own threads.
_JOBS_AT_ONCE = 8
# Stop starting records this long before Lambda's timeout, so the answer always gets out (an
# invocation that times out sends the whole batch back).
_SAFETY_SECONDS = 3.0
_DEFAULT_BUDGET_SECONDS = 25.0


@cache
def _jobs_executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=_JOBS_AT_ONCE, thread_name_prefix="push-job")


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
            event_held = event_from_record(record)
        except (ValueError, ValidationError):  # pydantic's ValidationError is a ValueError; named for clarity
            logger.error("record %s is not a job or user event: sent back, to end in the DLQ", message_id)
            failures.append({"itemIdentifier": message_id})
            continue
        if isinstance(event_held, UserEvent):
            if not user_deactivated(event_held, store=deps.store(), management=deps.management()):
                failures.append({"itemIdentifier": message_id})
            continue
        events.append((message_id, event_held))
    subscribers = topic_subscribers(
        (job_event for _, job_event in events), store=deps.store(), executor=_jobs_executor()
    )
    by_job: dict[uuid.UUID, list[tuple[str, JobEvent]]] = {}
    for message_id, job_event in events:
        by_job.setdefault(job_event.job_id, []).append((message_id, job_event))

    def push_job(records: list[tuple[str, JobEvent]]) -> list[str]:
        """The job's records in order; returns the message ids that failed."""
        failed = []
        for message_id, job_event in records:
            if time.monotonic() >= deadline:
                failed.append(message_id)
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
                failed.append(message_id)
        return failed

    for failed in _jobs_executor().map(push_job, by_job.values()):
        failures += [{"itemIdentifier": message_id} for message_id in failed]
    return {"batchItemFailures": failures}


def reset() -> None:
    """Forget the container's objects (tests change the environment between cases)."""
    if fanout.cache_info().currsize:
        fanout().close()
    fanout.cache_clear()
    if _jobs_executor.cache_info().currsize:
        _jobs_executor().shutdown(wait=True)
    _jobs_executor.cache_clear()
    deps.reset()
