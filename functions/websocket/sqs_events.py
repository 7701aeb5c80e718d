"""SQS → Lambda events as typed dicts, and the adapter from a push-queue record to the event it holds."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from contracts.job_event import JobEvent
from contracts.user_event import UserEvent


class SqsRecord(TypedDict, total=False):
    messageId: str
    receiptHandle: str
    body: str
    attributes: dict[str, str]
    messageAttributes: dict[str, Any]
    md5OfBody: str
    eventSource: str
    eventSourceARN: str
    awsRegion: str


class SqsEvent(TypedDict):
    Records: list[SqsRecord]


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    batchItemFailures: list[BatchItemFailure]


def event_from_record(record: SqsRecord) -> JobEvent | UserEvent:
    """The job or user event in a push-queue record; raises ``ValueError`` (incl. pydantic's) when it
    is neither (the topic carries both: ``job.*`` and ``user.*`` types).

    The SNS subscription delivers raw (``RawMessageDelivery: true``), so the body is the event. A
    subscription created without raw delivery wraps it in an SNS envelope: accept that too rather
    than send every event to the DLQ over a configuration slip.
    """
    body = record.get("body", "")
    data = json.loads(body)
    if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        data = json.loads(data["Message"])
    if isinstance(data, dict) and str(data.get("type", "")).startswith("user."):
        return UserEvent.model_validate(data)
    return JobEvent.model_validate(data)
