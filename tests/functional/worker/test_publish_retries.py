"""Publishing job events: what SNS did not take is tried again, and what it never takes is returned."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from contracts.job_event import JobEvent
from django_app.jobs import events as events_module
from django_app.jobs.events import PUBLISH_ATTEMPTS, job_events_publish


def _event(seq: int) -> JobEvent:
    return JobEvent.model_validate(
        {
            "type": "job.running",
            "job_id": str(uuid.uuid4()),
            "owner": "7",
            "seq": seq,
            "task": "word_count",
            "status": "running",
            "progress": 0,
            "at": "2026-01-01T00:00:00Z",
        }
    )


class ScriptedSns:
    """Answers each PublishBatch with the next scripted reply: a function of the entries, or an error."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)
        self.calls: list[list[dict[str, Any]]] = []

    def publish_batch(self, *, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]) -> Any:  # noqa: N803
        self.calls.append(PublishBatchRequestEntries)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply(PublishBatchRequestEntries)


def _all_taken(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Successful": [{"Id": e["Id"], "MessageId": "m"} for e in entries], "Failed": []}


@pytest.fixture
def sns(monkeypatch: Any, settings: Any) -> Any:
    settings.JOB_EVENTS_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:job-events"
    monkeypatch.setattr(events_module.time, "sleep", lambda seconds: None)

    def install(*replies: Any) -> ScriptedSns:
        fake = ScriptedSns(*replies)
        monkeypatch.setattr(events_module, "sns_publisher", lambda: fake)
        return fake

    return install


def test_entries_named_in_neither_list_are_published_again(sns: Any) -> None:
    """The API promises each entry in Successful or Failed; moto drops the ones whose delivery raised."""
    fake = sns(lambda entries: {"Successful": [{"Id": "0", "MessageId": "m"}], "Failed": []}, _all_taken)
    sent = [_event(1), _event(2), _event(3)]

    assert job_events_publish(events=sent) == []
    assert [len(call) for call in fake.calls] == [3, 2]
    assert [entry["Message"] for entry in fake.calls[1]] == [e.model_dump_json() for e in sent[1:]]


def test_service_side_failures_are_retried_and_sender_faults_are_not(sns: Any) -> None:
    def partly(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Successful": [],
            "Failed": [
                {"Id": "0", "Code": "InternalError", "SenderFault": False, "Message": "try again"},
                {"Id": "1", "Code": "InvalidParameter", "SenderFault": True, "Message": "no"},
            ],
        }

    fake = sns(partly, _all_taken)
    sent = [_event(1), _event(2)]

    assert job_events_publish(events=sent) == [sent[1]]
    assert [len(call) for call in fake.calls] == [2, 1]


def test_events_sns_never_takes_are_returned_after_the_last_attempt(sns: Any) -> None:
    error = ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "PublishBatch")
    fake = sns(*[error] * PUBLISH_ATTEMPTS)
    sent = [_event(1)]

    assert job_events_publish(events=sent) == sent
    assert len(fake.calls) == PUBLISH_ATTEMPTS
