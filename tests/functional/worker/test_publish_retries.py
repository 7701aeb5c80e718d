"""Publishing job events: what SNS did not take is tried again, and what it never takes is returned."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from contracts.job_event import JobEvent
from django_app.jobs import events as events_module
from django_app.jobs import sns_publisher as sns_publisher_module
from django_app.jobs.events import job_events_publish
from django_app.jobs.sns_publisher import (
    PUBLISH_ATTEMPTS,
    BatchAnswer,
    BatchEntry,
    EntryFailure,
    PublishFailed,
    SnsPublisher,
)


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


class ScriptedSns(SnsPublisher):
    """Answers each PublishBatch call with the next scripted reply: a function of the entries, or an error."""

    def __init__(self, *replies: Any) -> None:
        super().__init__(
            endpoint_url="http://127.0.0.1:9", region="us-east-1", credentials=None, connect_timeout=1, read_timeout=1
        )
        self.replies = list(replies)
        self.calls: list[list[BatchEntry]] = []

    def send_batch(self, *, topic_arn: str, entries: Sequence[BatchEntry]) -> BatchAnswer:
        self.calls.append(list(entries))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        answer: BatchAnswer = reply(entries)
        return answer


def _all_taken(entries: Sequence[BatchEntry]) -> BatchAnswer:
    return BatchAnswer(taken=frozenset(e["Id"] for e in entries), failed={})


@pytest.fixture
def sns(monkeypatch: Any, settings: Any) -> Any:
    settings.JOB_EVENTS_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:job-events"
    monkeypatch.setattr(sns_publisher_module.time, "sleep", lambda seconds: None)

    def install(*replies: Any) -> ScriptedSns:
        fake = ScriptedSns(*replies)
        monkeypatch.setattr(events_module, "sns_publisher", lambda: fake)
        return fake

    return install


def test_entries_named_in_neither_list_are_published_again(sns: Any) -> None:
    """The API promises each entry in Successful or Failed; moto drops the ones whose delivery raised."""
    fake = sns(lambda entries: BatchAnswer(taken=frozenset({"0"}), failed={}), _all_taken)
    sent = [_event(1), _event(2), _event(3)]

    assert job_events_publish(events=sent) == []
    assert [len(call) for call in fake.calls] == [3, 2]
    assert [entry["Message"] for entry in fake.calls[1]] == [e.model_dump_json() for e in sent[1:]]


def test_service_side_failures_are_retried_and_sender_faults_are_not(sns: Any) -> None:
    def partly(entries: Sequence[BatchEntry]) -> BatchAnswer:
        return BatchAnswer(
            taken=frozenset(),
            failed={
                "0": EntryFailure(code="InternalError", message="try again", sender_fault=False),
                "1": EntryFailure(code="InvalidParameter", message="no", sender_fault=True),
            },
        )

    fake = sns(partly, _all_taken)
    sent = [_event(1), _event(2)]

    assert job_events_publish(events=sent) == [sent[1]]
    assert [len(call) for call in fake.calls] == [2, 1]


def test_events_sns_never_takes_are_returned_after_the_last_attempt(sns: Any) -> None:
    error = PublishFailed("Throttling", "slow down", status=400)
    fake = sns(*[error] * PUBLISH_ATTEMPTS)
    sent = [_event(1)]

    assert job_events_publish(events=sent) == sent
    assert len(fake.calls) == PUBLISH_ATTEMPTS
