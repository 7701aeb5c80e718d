"""The worker's parts on their own: message parsing, backoff, the event outbox, the task context."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from contracts.job_event import JobEvent
from django_app.jobs.execution import MAX_VISIBILITY_SECONDS, retry_delay
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.outbox import EventOutbox
from django_app.jobs.worker_context import WorkerTaskContext
from django_app.jobs.worker_types import PoisonMessage
from functions.worker.messages import job_message_parse


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "not_json"),
        ("{oops", "not_json"),
        ("[1, 2]", "invalid_message"),
        ('{"job_id": "x"}', "wrong_version"),
        ('{"v": 2, "job_id": "0b7f8f5e-5f0e-4a53-9d1c-2f0a3c1b9e11", "task": "t", "attempt": 0}', "wrong_version"),
        ('{"v": 1, "job_id": "not-a-uuid", "task": "t", "attempt": 0}', "invalid_message"),
        (
            '{"v": 1, "job_id": "0b7f8f5e-5f0e-4a53-9d1c-2f0a3c1b9e11", "task": "t", "attempt": 0, "x": 1}',
            "invalid_message",
        ),
    ],
)
def test_unreadable_bodies_are_poison_with_a_reason(body: str, reason: str) -> None:
    with pytest.raises(PoisonMessage) as raised:
        job_message_parse(body=body)
    assert raised.value.reason == reason


def test_a_good_body_parses() -> None:
    job_id = uuid.uuid4()
    body = json.dumps({"v": 1, "job_id": str(job_id), "task": "word_count", "attempt": 2, "correlation_id": "c"})
    message = job_message_parse(body=body)
    assert (message.job_id, message.task, message.attempt) == (job_id, "word_count", 2)


@given(
    attempt=st.integers(min_value=1, max_value=30),
    base=st.floats(min_value=0.5, max_value=120),
    cap=st.floats(min_value=1, max_value=100_000),
    rand=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_retry_delay_is_jittered_half_to_full_of_a_capped_exponential(
    attempt: int, base: float, cap: float, rand: float
) -> None:
    ceiling = min(cap, base * 2 ** (attempt - 1), MAX_VISIBILITY_SECONDS)
    delay = retry_delay(attempt=attempt, base=base, cap=cap, rand=lambda: rand)
    assert max(1, math.floor(ceiling / 2)) <= delay <= max(1, math.ceil(ceiling))
    assert delay <= MAX_VISIBILITY_SECONDS


def test_retry_delay_grows_with_the_attempt_until_the_cap() -> None:
    delays = [retry_delay(attempt=a, base=10, cap=900, rand=lambda: 1.0) for a in range(1, 10)]
    assert delays == [10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert retry_delay(attempt=1, base=0, cap=900) == 0


def event(*, seq: int, result: Any = None, job_id: uuid.UUID | None = None) -> JobEvent:
    return JobEvent(
        type="job.succeeded" if result is not None else "job.progress",
        job_id=job_id or uuid.uuid4(),
        owner="1",
        seq=seq,
        task="t",
        status="succeeded" if result is not None else "running",
        progress=0,
        result=result,
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


class RecordingPublish:
    def __init__(self) -> None:
        self.calls: list[list[JobEvent]] = []

    def __call__(self, *, events: list[JobEvent]) -> list[JobEvent]:
        self.calls.append(list(events))
        return []


def test_the_outbox_publishes_full_batches_of_ten_at_once_and_the_rest_on_close() -> None:
    publish = RecordingPublish()
    outbox = EventOutbox(max_delay=60, publish=publish)  # the timer never fires during the test
    for seq in range(1, 24):
        outbox.add(event(seq=seq))

    assert outbox.close() == 23

    assert sorted([e.seq for e in call] for call in publish.calls) == [
        list(range(1, 11)),
        list(range(11, 21)),
        [21, 22, 23],
    ]
    assert outbox.flush() == 0


def test_the_outbox_keeps_a_batch_under_the_publish_size_limit_and_links_huge_results() -> None:
    publish = RecordingPublish()
    outbox = EventOutbox(max_delay=60, publish=publish)
    job_id = uuid.uuid4()
    for seq in range(1, 4):
        outbox.add(event(seq=seq, result={"blob": "x" * 80_000}))  # fits a push, three do not fit a batch
    outbox.add(event(seq=4, result={"blob": "x" * (settings.JOB_EVENT_RESULT_MAX_BYTES + 1)}, job_id=job_id))

    outbox.close()

    assert [[e.seq for e in call] for call in publish.calls] == [[1, 2], [3, 4]]
    linked = publish.calls[-1][-1]
    assert (linked.result, linked.result_url) == (None, f"/api/jobs/{job_id}/")
    assert publish.calls[0][0].result == {"blob": "x" * 80_000}


def test_the_outbox_with_no_delay_publishes_each_event_at_once() -> None:
    publish = RecordingPublish()
    outbox = EventOutbox(max_delay=0, publish=publish)
    outbox.add(event(seq=1))
    outbox.add(event(seq=2))
    outbox.close()
    assert sorted([e.seq for e in call] for call in publish.calls) == [[1], [2]]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ListSink:
    def __init__(self) -> None:
        self.events: list[JobEvent] = []

    def add(self, event: JobEvent) -> None:
        self.events.append(event)

    def add_all(self, events: Sequence[JobEvent]) -> None:
        self.events.extend(events)


@pytest.mark.django_db
def test_progress_is_written_at_most_once_per_interval_and_clamped(user: Any) -> None:
    job = Job.objects.create(owner=user, task="wt_steps", status=JobStatus.RUNNING, attempts=1, seq=2)
    clock, sink = Clock(), ListSink()
    ctx = WorkerTaskContext(job=job, attempt=1, sink=sink, interval=0.25, clock=clock)

    ctx.progress(10, "a")
    ctx.progress(20, "b")  # same instant: kept, not written
    clock.now += 0.1
    ctx.progress(30, "c")  # still inside the interval
    clock.now += 0.2
    ctx.progress(250, "x" * 500)  # after the interval: written, clamped to 100 and 200 characters

    job.refresh_from_db()
    assert [(e.progress, e.seq) for e in sink.events] == [(10, 3), (100, 4)]
    assert (job.progress, len(job.note), job.seq) == (100, 200, 4)


@pytest.mark.django_db
def test_a_context_whose_job_was_cancelled_reports_cancelled_and_stops_writing(user: Any) -> None:
    job = Job.objects.create(owner=user, task="wt_steps", status=JobStatus.RUNNING, attempts=1, seq=2)
    sink = ListSink()
    ctx = WorkerTaskContext(job=job, attempt=1, sink=sink, interval=0.0)
    assert ctx.cancelled() is False

    Job.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED, seq=3)

    assert ctx.cancelled() is True
    ctx.progress(50, "too late")
    assert sink.events == []
    assert Job.objects.get(pk=job.pk).progress == 0


@pytest.mark.django_db
def test_another_attempt_owning_the_job_counts_as_cancelled_for_this_one(user: Any) -> None:
    job = Job.objects.create(owner=user, task="wt_steps", status=JobStatus.RUNNING, attempts=1, seq=2)
    ctx = WorkerTaskContext(job=job, attempt=1, sink=ListSink(), interval=0.0)

    Job.objects.filter(pk=job.pk).update(attempts=2, seq=4)  # the lease expired and another worker took over

    ctx.progress(40, "stale")
    assert ctx.lost is True
    assert Job.objects.get(pk=job.pk).progress == 0


def test_remaining_seconds_is_the_smaller_of_lambda_time_and_lease() -> None:
    job = Job(lease_until=timezone.now() + dt.timedelta(seconds=30))
    assert 25 < WorkerTaskContext(job=job, attempt=1, sink=ListSink(), interval=0.25).remaining_seconds() <= 30
    short = WorkerTaskContext(job=job, attempt=1, sink=ListSink(), interval=0.25, lambda_remaining=lambda: 5.0)
    assert short.remaining_seconds() == 5.0
