"""Worker test fixtures: a jobs queue with a DLQ, fast worker settings, the ESM's poll loop."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.aws import aws_client
from tests.functional.worker import tasks as _tasks  # noqa: F401  (registers the wt_* tasks)
from tests.functional.worker.builders import LambdaContextStub, queue_arn_of, sqs_event_from_received


@dataclass(frozen=True)
class WorkerQueue:
    url: str
    arn: str
    dlq_url: str
    max_receive_count: int


@pytest.fixture(autouse=True)
def fast_worker(settings: Any) -> None:
    """Backoffs short enough to observe in a test; poison and DB-down records come back at once."""
    settings.WORKER_RETRY_BASE_SECONDS = 2
    settings.WORKER_RETRY_MAX_SECONDS = 4
    settings.WORKER_POISON_VISIBILITY_SECONDS = 0
    settings.WORKER_DB_DOWN_BASE_SECONDS = 0
    settings.WORKER_TIME_MARGIN_SECONDS = 10


@pytest.fixture
def worker_queue(settings: Any) -> WorkerQueue:
    """A jobs queue shaped like serverless.yml's (redrive to a DLQ after 5 receives), Django sending to it."""
    sqs = aws_client("sqs")
    suffix = uuid.uuid4().hex[:12]
    dlq_url = sqs.create_queue(QueueName=f"jobs-dlq-{suffix}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=f"jobs-{suffix}",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    settings.JOBS_QUEUE_URL = url
    return WorkerQueue(url=url, arn=queue_arn_of(queue_url=url), dlq_url=dlq_url, max_receive_count=5)


@pytest.fixture
def worker_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from functions.worker.handler import handler

    return handler


@dataclass
class Delivery:
    event: dict[str, Any]
    response: dict[str, Any]

    @property
    def failed_ids(self) -> set[str]:
        return {item["itemIdentifier"] for item in self.response.get("batchItemFailures") or []}

    @property
    def message_ids(self) -> set[str]:
        return {record["messageId"] for record in self.event["Records"]}


@pytest.fixture
def esm(worker_handler: Callable[..., dict[str, Any]]) -> Callable[..., Delivery | None]:
    """One poll of Lambda's event source mapping: receive ≤10, invoke, delete what was not reported."""

    def poll(queue: WorkerQueue, *, context: Any = None) -> Delivery | None:
        sqs = aws_client("sqs")
        messages = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return None
        event = sqs_event_from_received(messages=messages, queue_arn=queue.arn)
        response = worker_handler(event, context or LambdaContextStub())
        delivery = Delivery(event=event, response=response)
        done = [m for m in messages if m["MessageId"] not in delivery.failed_ids]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return delivery

    return poll


@pytest.fixture
def side_effect_file(tmp_path: Any) -> Any:
    return tmp_path / "ran.txt"


def environment_for_subprocess(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
