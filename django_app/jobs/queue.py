"""Sending job messages to the jobs queue. AWS errors become ``QueueUnavailable``."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from contracts.job_message import JobMessage
from django_app.jobs.aws import client
from django_app.jobs.errors import QueueUnavailable


def job_message_send(*, message: JobMessage) -> str:
    """Returns SQS's message id."""
    if not settings.JOBS_QUEUE_URL:
        raise QueueUnavailable("JOBS_QUEUE_URL is not configured")
    try:
        response = client("sqs").send_message(
            QueueUrl=settings.JOBS_QUEUE_URL,
            MessageBody=message.model_dump_json(),
            MessageAttributes={
                "task": {"DataType": "String", "StringValue": message.task},
                "correlation_id": {"DataType": "String", "StringValue": message.correlation_id or "-"},
            },
        )
    except (BotoCoreError, ClientError) as error:
        raise QueueUnavailable(f"SQS refused the job message: {error}") from error
    return str(response["MessageId"])
