"""Sweeps: lost sends re-sent, expired leases retried or failed, old jobs and tickets purged."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.utils import timezone

from contracts.job_message import JobMessage
from django_app.jobs import sweeps
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.sweeps import sweeps_run
from tests.aws import drain
from tests.functional.worker.helpers import events_of

pytestmark = pytest.mark.django_db(transaction=True)


def make_job(owner: Any, *, age: dt.timedelta = dt.timedelta(0), **fields: Any) -> Job:
    fields.setdefault("task", "word_count")
    fields.setdefault("params", {"text": "x"})
    fields.setdefault("seq", 1)
    job = Job.objects.create(owner=owner, **fields)
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - age)  # auto_now would hide the age
    job.refresh_from_db()
    return job


def sent_job_ids(queue_url: str) -> list[str]:
    return sorted(str(JobMessage.model_validate_json(m["Body"]).job_id) for m in drain(queue_url))


def test_queued_jobs_whose_message_was_lost_are_sent_again(user: Any, worker_queue: Any, settings: Any) -> None:
    now = timezone.now()
    never_sent = make_job(user, age=dt.timedelta(minutes=5))
    just_submitted = make_job(user)  # its send may still be on the way
    stale = make_job(user, age=dt.timedelta(hours=1), enqueued_at=now - dt.timedelta(hours=1))
    backing_off = make_job(user, enqueued_at=now + dt.timedelta(seconds=60))  # a retry's message, still hidden
    unknown = make_job(user, task="retired_task", age=dt.timedelta(hours=1))

    report = sweeps_run(names=["unsent"])

    assert report == {"unsent": {"resent": 2, "send_failed": 0, "unknown_task": 1}}
    assert sent_job_ids(worker_queue.url) == sorted([str(never_sent.pk), str(stale.pk)])
    for job in (never_sent, stale):
        job.refresh_from_db()
        assert job.enqueued_at is not None
        assert job.enqueued_at >= now
    for job in (just_submitted, backing_off, unknown):
        assert Job.objects.get(pk=job.pk).enqueued_at == job.enqueued_at


def test_expired_leases_are_retried_while_attempts_remain_then_failed(
    user: Any, worker_queue: Any, events_topic: tuple[str, str]
) -> None:
    expired = timezone.now() - dt.timedelta(minutes=5)
    retried = make_job(user, status=JobStatus.RUNNING, attempts=1, max_attempts=3, lease_until=expired, seq=2)
    exhausted = make_job(user, status=JobStatus.RUNNING, attempts=3, max_attempts=3, lease_until=expired, seq=6)
    alive = make_job(
        user, status=JobStatus.RUNNING, attempts=1, lease_until=timezone.now() + dt.timedelta(minutes=5), seq=2
    )

    report = sweeps_run(names=["leases"])

    assert report == {"leases": {"requeued": 1, "failed": 1, "skipped": 0}}
    retried.refresh_from_db()
    assert (retried.status, retried.seq, retried.error_code, retried.lease_until) == (
        JobStatus.QUEUED,
        3,
        "worker_lost",
        None,
    )
    assert retried.enqueued_at is not None
    assert sent_job_ids(worker_queue.url) == [str(retried.pk)]
    exhausted.refresh_from_db()
    assert (exhausted.status, exhausted.seq, exhausted.error_code) == (JobStatus.FAILED, 7, "worker_lost")
    assert Job.objects.get(pk=alive.pk).status == JobStatus.RUNNING
    events = events_of(queue_url=events_topic[1], job_id=None, expect=2)
    assert sorted((str(e.job_id), e.type, e.seq) for e in events) == sorted(
        [(str(retried.pk), "job.queued", 3), (str(exhausted.pk), "job.failed", 7)]
    )


def test_finished_jobs_past_retention_are_purged(user: Any, settings: Any) -> None:
    settings.JOBS_RETENTION_DAYS = 30
    now = timezone.now()
    old = [
        make_job(user, status=status, finished_at=now - dt.timedelta(days=31))
        for status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
    ]
    recent = make_job(user, status=JobStatus.SUCCEEDED, finished_at=now - dt.timedelta(days=29))
    running = make_job(user, status=JobStatus.RUNNING, lease_until=now + dt.timedelta(minutes=1))

    report = sweeps_run(names=["purge"])

    assert report == {"purge": {"jobs": 3, "rate_limits": 0}}
    assert not Job.objects.filter(pk__in=[job.pk for job in old]).exists()
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}


def test_each_sweep_is_bounded_per_run(user: Any, worker_queue: Any, settings: Any) -> None:
    settings.JOBS_SWEEP_BATCH_LIMIT = 2
    for _ in range(5):
        make_job(user, age=dt.timedelta(minutes=5))

    assert sweeps_run(names=["unsent"]) == {"unsent": {"resent": 2, "send_failed": 0, "unknown_task": 0}}
    assert sweeps_run(names=["unsent"]) == {"unsent": {"resent": 2, "send_failed": 0, "unknown_task": 0}}
    assert sweeps_run(names=["unsent"]) == {"unsent": {"resent": 1, "send_failed": 0, "unknown_task": 0}}


def test_a_failing_sweep_does_not_stop_the_others(
    user: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**kwargs: Any) -> dict[str, int]:
        raise RuntimeError("boom")

    monkeypatch.setattr(sweeps, "jobs_sweep_unsent", broken)
    with caplog.at_level(logging.ERROR):
        report = sweeps_run()

    assert report["unsent"] == "error"
    assert isinstance(report["leases"], dict)
    assert isinstance(report["purge"], dict)
    assert any("sweep unsent failed" in r.getMessage() for r in caplog.records)
