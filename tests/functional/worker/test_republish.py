"""Events SNS did not take from the API or a sweep are noted on the job, and the ``republish`` sweep
publishes the job's current state (the worker keeps its SQS message instead: test_handler.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from django.utils import timezone

from django_app.jobs import events as events_module
from django_app.jobs import sns_publisher as sns_publisher_module
from django_app.jobs import sweeps
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.services import job_cancel, job_submit
from django_app.jobs.sns_publisher import BatchAnswer, BatchEntry, PublishFailed, SnsPublisher
from django_app.jobs.sweeps import sweeps_run
from tests.functional.worker.helpers import events_of

pytestmark = pytest.mark.django_db(transaction=True)


class _SnsDown(SnsPublisher):
    def __init__(self) -> None:
        super().__init__(
            endpoint_url="http://127.0.0.1:9", region="us-east-1", credentials=None, connect_timeout=1, read_timeout=1
        )

    def send_batch(self, *, topic_arn: str, entries: Sequence[BatchEntry]) -> BatchAnswer:
        raise PublishFailed("InternalError", "down", status=500)


@pytest.fixture
def sns_down(monkeypatch: pytest.MonkeyPatch) -> Any:
    """SNS fails every call while the context is open (the publisher's retries too)."""
    monkeypatch.setattr(sns_publisher_module.time, "sleep", lambda seconds: None)
    real_publisher = events_module.sns_publisher

    class Outage:
        def __enter__(self) -> None:
            monkeypatch.setattr(events_module, "sns_publisher", lambda: _SnsDown())

        def __exit__(self, *exc: object) -> None:
            monkeypatch.setattr(events_module, "sns_publisher", real_publisher)

    return Outage()


def test_a_cancel_event_sns_did_not_take_is_published_by_the_sweep(
    user: Any, events_topic: tuple[str, str], settings: Any, sns_down: Any
) -> None:
    settings.JOBS_QUEUE_URL = ""
    job = job_submit(owner=user, task_name="word_count", params={"text": "a"})
    events_of(queue_url=events_topic[1], job_id=job.pk, expect=1)  # job.queued, taken
    with sns_down:
        job_cancel(job=job)

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.event_unpublished_at is not None
    assert events_of(queue_url=events_topic[1], job_id=job.pk, expect=1, timeout=0.5) == []

    report = sweeps_run(names=["republish"])

    assert report == {"republish": {"republished": 1, "not_taken": 0}}
    [event] = events_of(queue_url=events_topic[1], job_id=job.pk, expect=1)
    assert (event.type, event.seq, event.status) == ("job.cancelled", job.seq, "cancelled")
    assert Job.objects.get(pk=job.pk).event_unpublished_at is None
    assert sweeps_run(names=["republish"]) == {"republish": {"republished": 0, "not_taken": 0}}


def test_a_republish_sns_does_not_take_keeps_the_note(user: Any, events_topic: tuple[str, str], sns_down: Any) -> None:
    noted_at = timezone.now() - dt.timedelta(minutes=1)
    job = Job.objects.create(owner=user, task="word_count", status=JobStatus.SUCCEEDED, seq=4, result={"n": 1})
    Job.objects.filter(pk=job.pk).update(event_unpublished_at=noted_at)

    with sns_down:
        report = sweeps_run(names=["republish"])

    assert report == {"republish": {"republished": 0, "not_taken": 1}}
    assert Job.objects.get(pk=job.pk).event_unpublished_at == noted_at


def test_a_loss_noted_while_the_sweep_published_stays_noted(
    user: Any, events_topic: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = Job.objects.create(owner=user, task="word_count", status=JobStatus.QUEUED, seq=1)
    Job.objects.filter(pk=job.pk).update(event_unpublished_at=timezone.now() - dt.timedelta(minutes=1))
    newer = timezone.now()
    publish = sweeps.job_events_publish

    def publish_while_another_loss_is_noted(*, events: Any) -> Any:
        Job.objects.filter(pk=job.pk).update(event_unpublished_at=newer)
        return publish(events=events)

    monkeypatch.setattr(sweeps, "job_events_publish", publish_while_another_loss_is_noted)
    sweeps_run(names=["republish"])

    assert Job.objects.get(pk=job.pk).event_unpublished_at == newer  # the next run publishes again


def test_a_sweeps_event_sns_did_not_take_is_noted(user: Any, settings: Any, sns_down: Any) -> None:
    settings.JOB_EVENTS_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:job-events"
    settings.JOBS_QUEUE_URL = ""
    expired = timezone.now() - dt.timedelta(minutes=5)
    job = Job.objects.create(
        owner=user, task="word_count", status=JobStatus.RUNNING, attempts=3, max_attempts=3, lease_until=expired, seq=2
    )

    with sns_down:
        report = sweeps_run(names=["leases"])

    assert report == {"leases": {"requeued": 0, "failed": 1, "skipped": 0}}
    job.refresh_from_db()
    assert (job.status, job.event_unpublished_at is not None) == (JobStatus.FAILED, True)


def test_a_republished_result_too_large_for_a_message_goes_as_its_link(
    user: Any, events_topic: tuple[str, str]
) -> None:
    big = {"text": "x" * 150_000}
    job = Job.objects.create(owner=user, task="word_count", status=JobStatus.SUCCEEDED, seq=3, result=big)
    Job.objects.filter(pk=job.pk).update(event_unpublished_at=timezone.now())

    assert sweeps_run(names=["republish"]) == {"republish": {"republished": 1, "not_taken": 0}}
    [event] = events_of(queue_url=events_topic[1], job_id=job.pk, expect=1)
    assert (event.type, event.result, event.result_url) == ("job.succeeded", None, f"/api/jobs/{job.pk}/")
