"""When records this invocation did not finish come back: ``ChangeMessageVisibilityBatch``.

A failed record would otherwise return only after its queue's visibility timeout (30 or 90 min). Best
effort: if SQS refuses, the record still returns after that timeout, so nothing is lost.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from botocore.exceptions import BotoCoreError, ClientError

from django_app.jobs.aws import client

logger = logging.getLogger(__name__)

SQS_BATCH_LIMIT = 10


@dataclass(frozen=True)
class VisibilityChange:
    queue_arn: str
    message_id: str
    receipt_handle: str
    seconds: int


@cache
def queue_url_for(queue_arn: str) -> str:
    """``arn:aws:sqs:<region>:<account>:<name>`` → the queue URL, asked once per container."""
    parts = queue_arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError(f"not an SQS queue ARN: {queue_arn!r}")
    response = client("sqs").get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
    return str(response["QueueUrl"])


def messages_visibility_change(*, changes: list[VisibilityChange]) -> int:
    """Applies the changes in batches of ten per queue; returns how many SQS accepted."""
    by_queue: dict[str, list[VisibilityChange]] = defaultdict(list)
    for change in changes:
        by_queue[change.queue_arn].append(change)
    accepted = 0
    for queue_arn, queue_changes in by_queue.items():
        try:
            queue_url = queue_url_for(queue_arn)
        except (BotoCoreError, ClientError, ValueError):
            logger.exception(
                "cannot find the queue of %s; %d record(s) return after its visibility timeout",
                queue_arn,
                len(queue_changes),
            )
            continue
        for start in range(0, len(queue_changes), SQS_BATCH_LIMIT):
            chunk = queue_changes[start : start + SQS_BATCH_LIMIT]
            entries = [
                {"Id": str(index), "ReceiptHandle": change.receipt_handle, "VisibilityTimeout": change.seconds}
                for index, change in enumerate(chunk)
            ]
            try:
                response = client("sqs").change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
            except (BotoCoreError, ClientError):
                logger.exception("ChangeMessageVisibilityBatch failed for %d record(s)", len(chunk))
                continue
            accepted += len(response.get("Successful", []))
            for failure in response.get("Failed", []):
                change = chunk[int(failure["Id"])]
                logger.warning("visibility of message %s unchanged: %s", change.message_id, failure.get("Message"))
    return accepted
