"""Sending job messages to the job's queue (``settings.JOBS_QUEUES``). AWS errors become
``QueueUnavailable``; a queue name or a timeout that cannot work becomes a ``JobError`` before any
row is written."""

from __future__ import annotations

import datetime as dt
import math

from botocore.exceptions import BotoCoreError, ClientError

from contracts.job_message import JobMessage
from django_app.jobs.aws import client
from django_app.jobs.conf import JobQueue, job_queues, worker_conf
from django_app.jobs.errors import QueueUnavailable, TaskTooLongForQueue, UnknownQueue

# SQS holds a message back at most 15 minutes (DelaySeconds ≤ 900). A job due later is held in the
# database (queued, never sent) and the ``unsent`` sweep sends it once it is due within this window.
SQS_MAX_DELAY_SECONDS = 900


def job_queue_get(name: str) -> JobQueue:
    queues = job_queues()
    try:
        return queues[name]
    except KeyError:
        raise UnknownQueue(
            f"There is no queue named {name!r}; the queues are {', '.join(sorted(queues))}.",
            fields={"queue_name": [f"Expected one of {', '.join(sorted(queues))}."]},
        ) from None


def task_timeout_check(*, task_name: str, timeout: int, queue_name: str) -> None:
    """Refuses a task that could never run on its queue: the worker starts a task only when the time
    left in its invocation covers the task's timeout plus its margin."""
    queue = job_queue_get(queue_name)
    margin = worker_conf().time_margin_seconds
    if timeout + margin > queue.function_timeout:
        raise TaskTooLongForQueue(
            f"Task {task_name!r} may run {timeout} s; with the worker's {margin:.0f} s margin it does not fit "
            f"the {queue.function_timeout} s of queue {queue_name!r}. Declare a shorter timeout or another queue."
        )


def send_delay_seconds(*, run_after: dt.datetime | None, now: dt.datetime) -> int | None:
    """The DelaySeconds of a message sent at ``now`` for a job due at ``run_after``; None while the
    job is due too far ahead for SQS to hold it (the sweep sends it later)."""
    if run_after is None or run_after <= now:
        return 0
    seconds = (run_after - now).total_seconds()
    if seconds >= SQS_MAX_DELAY_SECONDS:
        return None
    return math.ceil(seconds)


def job_message_send(*, message: JobMessage, queue_name: str, delay_seconds: int = 0) -> str:
    """Returns SQS's message id. ``delay_seconds`` (0..899) keeps the message invisible that long."""
    url = job_queue_get(queue_name).url
    if not url:
        raise QueueUnavailable(f"the URL of queue {queue_name!r} is not configured")
    try:
        response = client("sqs").send_message(
            QueueUrl=url,
            MessageBody=message.model_dump_json(),
            DelaySeconds=max(0, min(delay_seconds, SQS_MAX_DELAY_SECONDS)),
            MessageAttributes={
                "task": {"DataType": "String", "StringValue": message.task},
                "correlation_id": {"DataType": "String", "StringValue": message.correlation_id or "-"},
            },
        )
    except (BotoCoreError, ClientError) as error:
        raise QueueUnavailable(f"SQS refused the job message: {error}") from error
    return str(response["MessageId"])
