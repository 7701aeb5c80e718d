"""Keyword-only builders of the events the worker takes, from the real shapes in tests/events/."""

from __future__ import annotations

import copy
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from infra.lambda_context import LambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events"
ACCOUNT = "123456789012"  # moto's default account


def event_fixture(*, name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def queue_arn_of(*, queue_url: str) -> str:
    return f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queue_url.rstrip('/').rsplit('/', 1)[-1]}"


def sqs_record(
    *,
    body: str,
    queue_arn: str,
    message_id: str | None = None,
    receipt_handle: str | None = None,
    receive_count: int = 1,
    message_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One record, shaped like the first record of tests/events/sqs_job_batch.json."""
    record = copy.deepcopy(event_fixture(name="sqs_job_batch.json")["Records"][0])
    now_ms = str(int(time.time() * 1000))
    record.update(
        messageId=message_id or str(uuid.uuid4()),
        receiptHandle=receipt_handle or f"AQEB{uuid.uuid4().hex}",
        body=body,
        md5OfBody=hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - what SQS itself computes
        eventSourceARN=queue_arn,
        messageAttributes=message_attributes or {},
    )
    record["attributes"].update(
        ApproximateReceiveCount=str(receive_count), SentTimestamp=now_ms, ApproximateFirstReceiveTimestamp=now_ms
    )
    return record


def sqs_event(*, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


def sqs_event_from_received(*, messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """What Lambda's event source mapping hands the function for messages it received from SQS."""
    records = []
    for message in messages:
        attributes = message.get("MessageAttributes", {})
        records.append(
            sqs_record(
                body=message["Body"],
                queue_arn=queue_arn,
                message_id=message["MessageId"],
                receipt_handle=message["ReceiptHandle"],
                receive_count=int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                message_attributes={
                    key: {
                        "stringValue": value.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for key, value in attributes.items()
                },
            )
        )
    return sqs_event(records=records)


class LambdaContextStub(LambdaContext):
    """The worker's Lambda context (the shared stub in infra/) with its time budget in seconds."""

    def __init__(self, *, remaining_seconds: float = 900.0) -> None:
        super().__init__(function_name="polyglot-dev-worker", timeout_seconds=remaining_seconds)
