"""Building job events from jobs and publishing them to the job-events SNS topic.

The job row is the truth, and clients fetch it after subscribing. The publisher retries events; the
worker also keeps the SQS message of a job whose terminal event was not taken, so its redelivery
publishes it again, and the API's and the sweeps' events not taken are noted on the job for the
``republish`` sweep (connected clients rely on the push for jobs that end after their fetch).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings

from contracts.job_event import JobError, JobEvent, JobEventType
from django_app.jobs.aws import sns_publisher
from django_app.jobs.models import Job

logger = logging.getLogger(__name__)

SNS_BATCH_LIMIT = 10


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
    """Publishes in batches of ten; returns the events SNS did not take after the publisher's
    retries (``SnsPublisher.publish_events``). Every event not taken is logged."""
    if not events:
        return []
    if not settings.JOB_EVENTS_TOPIC_ARN:
        logger.warning("JOB_EVENTS_TOPIC_ARN is not configured; %d job event(s) not published", len(events))
        return []
    not_taken: list[JobEvent] = []
    for start in range(0, len(events), SNS_BATCH_LIMIT):
        chunk = events[start : start + SNS_BATCH_LIMIT]
        not_taken += sns_publisher().publish_events(topic_arn=settings.JOB_EVENTS_TOPIC_ARN, events=chunk)
    return not_taken
