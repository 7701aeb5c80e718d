"""The job queues' dead-letter queues, for operators: list what is there, send it back.

Each job queue (``default``: ``JOBS_QUEUE_URL``, ``long``: ``JOBS_LONG_QUEUE_URL``) has its own DLQ,
found from that queue's ``RedrivePolicy``, so there is nothing more to configure.
Redrive is safe at any time: a message for a job that already finished is acknowledged without
running anything, and one for a job that still waits runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from django_app.jobs.aws import client
from django_app.jobs.errors import QueueUnavailable

# The job queues by the name operators use (``manage.py jobs_dlq --queue``) → the setting holding its URL.
QUEUE_URL_SETTINGS = {"default": "JOBS_QUEUE_URL", "long": "JOBS_LONG_QUEUE_URL"}
MAX_MESSAGES = 10_000  # every loop here stops after this many messages, whatever the queue holds
# Messages received while listing stay hidden this long, so one listing never shows one twice.
LIST_VISIBILITY_SECONDS = 30


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receive_count: int
    sent_at_ms: int
    body: str

    def summary(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body)
        except ValueError:
            parsed = None
        job = parsed if isinstance(parsed, dict) else {}
        return {
            "message_id": self.message_id,
            "job_id": job.get("job_id", ""),
            "task": job.get("task", ""),
            "receives": self.receive_count,
            "sent_at_ms": self.sent_at_ms,
            "body": self.body[:200],
        }


def _call(operation: str, **kwargs: Any) -> Any:
    try:
        return getattr(client("sqs"), operation)(**kwargs)
    except (BotoCoreError, ClientError) as error:
        raise QueueUnavailable(f"SQS {operation} failed: {error}") from error


def job_queue_url(*, queue: str = "default") -> str:
    """The URL of the job queue named ``queue`` (``default`` or ``long``), from its setting."""
    if queue not in QUEUE_URL_SETTINGS:
        raise QueueUnavailable(f"there is no job queue {queue!r} (known: {', '.join(QUEUE_URL_SETTINGS)})")
    url = str(getattr(settings, QUEUE_URL_SETTINGS[queue], "") or "")
    if not url:
        raise QueueUnavailable(f"{QUEUE_URL_SETTINGS[queue]} is not configured")
    return url


def dlq_url_get(*, queue_url: str | None = None, queue: str = "default") -> str:
    """The DLQ of ``queue_url``, else of the job queue named ``queue``."""
    source = queue_url or job_queue_url(queue=queue)
    attributes = _call("get_queue_attributes", QueueUrl=source, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
    if "RedrivePolicy" not in attributes:
        raise QueueUnavailable(f"{source} has no RedrivePolicy, so no DLQ")
    arn = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
    _, _, _, _, account, name = arn.split(":")
    return str(_call("get_queue_url", QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def _receive(queue_url: str, *, visibility: int, count: int) -> list[dict[str, Any]]:
    response = _call(
        "receive_message",
        QueueUrl=queue_url,
        MaxNumberOfMessages=max(1, min(10, count)),
        VisibilityTimeout=visibility,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        MessageAttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def dlq_list(*, limit: int = 100, queue_url: str | None = None, queue: str = "default") -> list[DeadLetter]:
    """Up to ``limit`` messages of the DLQ. They are hidden while the listing runs (so none shows
    twice) and made visible again at the end, so a redrive right after a listing finds them all."""
    dlq = dlq_url_get(queue_url=queue_url, queue=queue)
    letters: list[DeadLetter] = []
    receipts: list[str] = []
    limit = min(limit, MAX_MESSAGES)
    for _ in range(limit // 10 + 1):
        batch = _receive(dlq, visibility=LIST_VISIBILITY_SECONDS, count=limit - len(letters))
        if not batch:
            break
        receipts += [message["ReceiptHandle"] for message in batch]
        for message in batch:
            attributes = message.get("Attributes", {})
            letters.append(
                DeadLetter(
                    message_id=message["MessageId"],
                    receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
                    sent_at_ms=int(attributes.get("SentTimestamp", 0)),
                    body=message["Body"],
                )
            )
        if len(letters) >= limit:
            break
    for start in range(0, len(receipts), 10):
        entries = [
            {"Id": str(index), "ReceiptHandle": receipt, "VisibilityTimeout": 0}
            for index, receipt in enumerate(receipts[start : start + 10])
        ]
        # Best effort: a message left hidden reappears after LIST_VISIBILITY_SECONDS anyway.
        try:
            _call("change_message_visibility_batch", QueueUrl=dlq, Entries=entries)
        except QueueUnavailable:
            break
    return letters[:limit]


def dlq_redrive(*, limit: int = 1000, queue_url: str | None = None, queue: str = "default") -> int:
    """Moves up to ``limit`` messages back to the job queue they came from (send, then delete);
    returns how many."""
    source = queue_url or job_queue_url(queue=queue)
    dlq = dlq_url_get(queue_url=source)
    moved = 0
    limit = min(limit, MAX_MESSAGES)
    for _ in range(limit // 10 + 1):
        batch = _receive(dlq, visibility=60, count=limit - moved)
        if not batch:
            break
        for message in batch:
            attributes = {
                key: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
                for key, value in message.get("MessageAttributes", {}).items()
            }
            # Sent before deleted: a crash in between leaves a duplicate, which the claim absorbs.
            _call("send_message", QueueUrl=source, MessageBody=message["Body"], MessageAttributes=attributes)
            _call("delete_message", QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
        if moved >= limit:
            break
    return moved
