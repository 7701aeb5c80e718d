"""Building job events from jobs and publishing them to the job-events SNS topic.

The job row is the truth, and clients fetch it after subscribing. Events are retried here; the
worker also keeps the SQS message of a job whose terminal event was not taken, so its redelivery
publishes it again, and the API's and the sweeps' events not taken are noted on the job for the
``republish`` sweep (connected clients rely on the push for jobs that end after their fetch).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from contracts import backoff
from contracts.job_event import JobError, JobEvent, JobEventType
from django_app.jobs.aws import sns_publisher
from django_app.jobs.models import Job

logger = logging.getLogger(__name__)

SNS_BATCH_LIMIT = 10
PUBLISH_ATTEMPTS = 3


def job_event_build(*, job: Job, type: JobEventType) -> JobEvent:
    return JobEvent(
        type=type,
        job_id=job.id,
        owner=str(job.owner_id),
        seq=job.seq,
        task=job.task,
        status=job.status,
        progress=job.progress,
        note=job.note,
        result=job.result if type == "job.succeeded" else None,
        error=JobError(code=job.error_code, message=job.error_message) if job.error_code else None,
        at=job.updated_at,
        correlation_id=job.correlation_id,
    )


# The event that states each status: what a job's state is published again as.
_STATE_EVENT_TYPES: dict[str, JobEventType] = {
    "queued": "job.queued",
    "running": "job.running",
    "succeeded": "job.succeeded",
    "failed": "job.failed",
    "cancelled": "job.cancelled",
}


def job_state_event_build(*, job: Job) -> JobEvent:
    """The event of the job's current state, with its current ``seq``: published again for clients
    that may have missed it (those that have that ``seq`` already drop it)."""
    return job_event_build(job=job, type=_STATE_EVENT_TYPES[job.status])


def job_events_publish(*, events: Sequence[JobEvent]) -> list[JobEvent]:
    """Publishes in batches of ten; returns the events SNS did not take.

    An entry SNS failed on its side (``SenderFault`` false), a call that raised, and an entry the
    answer names in neither ``Successful`` nor ``Failed`` (the API promises one of the two; moto drops
    entries whose delivery raised) are tried again, ``PUBLISH_ATTEMPTS`` times in all. An entry
    refused as the sender's fault is not. Every event not taken is logged.
    """
    if not events:
        return []
    if not settings.JOB_EVENTS_TOPIC_ARN:
        logger.warning("JOB_EVENTS_TOPIC_ARN is not configured; %d job event(s) not published", len(events))
        return []
    not_taken: list[JobEvent] = []
    for start in range(0, len(events), SNS_BATCH_LIMIT):
        chunk = list(events[start : start + SNS_BATCH_LIMIT])
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            retry, refused = _publish_once(chunk, final=attempt == PUBLISH_ATTEMPTS)
            not_taken += refused
            if not retry:
                break
            if attempt == PUBLISH_ATTEMPTS:
                not_taken += retry
                break
            chunk = retry
            time.sleep(backoff.full_jitter(base=0.05, exponent=attempt))
    return not_taken


def _publish_once(chunk: list[JobEvent], *, final: bool) -> tuple[list[JobEvent], list[JobEvent]]:
    """One PublishBatch; returns (events to try again, events refused for good)."""
    entries = [
        {
            "Id": str(index),
            "Message": event.model_dump_json(),
            "MessageAttributes": {
                "type": {"DataType": "String", "StringValue": event.type},
                "owner": {"DataType": "String", "StringValue": event.owner},
            },
        }
        for index, event in enumerate(chunk)
    ]
    log = logger.error if final else logger.warning
    try:
        response = sns_publisher().publish_batch(
            TopicArn=settings.JOB_EVENTS_TOPIC_ARN, PublishBatchRequestEntries=entries
        )
    except (BotoCoreError, ClientError) as error:
        log("publishing %d job event(s) failed: %s", len(chunk), error)
        return chunk, []
    taken = {str(entry.get("Id")) for entry in response.get("Successful", [])}
    failed = {str(entry.get("Id")): entry for entry in response.get("Failed", [])}
    retry: list[JobEvent] = []
    refused: list[JobEvent] = []
    for index, event in enumerate(chunk):
        if str(index) in taken:
            continue
        failure = failed.get(str(index))
        if failure is None:
            log("SNS answered for neither success nor failure of job event %s seq %d", event.job_id, event.seq)
            retry.append(event)
        elif failure.get("SenderFault"):
            logger.error("SNS refused job event %s: %s", event.job_id, failure.get("Message"))
            refused.append(event)
        else:
            log("SNS failed job event %s: %s %s", event.job_id, failure.get("Code"), failure.get("Message"))
            retry.append(event)
    return retry, refused
