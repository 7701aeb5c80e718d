"""Building job events from jobs and publishing them to the job-events SNS topic.

Publishing is best effort: the job row is the truth, and clients fetch it after subscribing,
so a lost event delays a browser update but never loses a result.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from contracts.job_event import JobError, JobEvent, JobEventType
from django_app.jobs.aws import client
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


def job_events_publish(*, events: Sequence[JobEvent]) -> int:
    """Publishes in batches of ten; returns how many SNS accepted. Failures are logged, not raised."""
    if not events:
        return 0
    if not settings.JOB_EVENTS_TOPIC_ARN:
        logger.warning("JOB_EVENTS_TOPIC_ARN is not configured; %d job event(s) not published", len(events))
        return 0
    accepted = 0
    for start in range(0, len(events), SNS_BATCH_LIMIT):
        chunk = events[start : start + SNS_BATCH_LIMIT]
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
        try:
            response = client("sns").publish_batch(
                TopicArn=settings.JOB_EVENTS_TOPIC_ARN, PublishBatchRequestEntries=entries
            )
        except (BotoCoreError, ClientError):
            logger.exception("publishing %d job event(s) failed", len(chunk))
            continue
        accepted += len(response.get("Successful", []))
        for failure in response.get("Failed", []):
            logger.error("SNS refused job event %s: %s", chunk[int(failure["Id"])].job_id, failure.get("Message"))
    return accepted
