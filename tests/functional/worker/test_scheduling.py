"""A job's queue, run_after and priority: which queue its message goes to and when, what the sweep
releases, and what the worker runs first (or not yet)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from contracts.job_message import JobMessage
from django_app.jobs import queue as jobs_queue_module
from django_app.jobs.errors import TaskTooLongForQueue, UnknownQueue
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.registry import task
from django_app.jobs.services import job_submit
from django_app.jobs.sweeps import sweeps_run
from functions.worker import batch as batch_module
from tests.aws import drain
from tests.functional.worker.builders import (
    LambdaContextStub,
    queue_arn_of,
    sqs_event,
    sqs_event_from_received,
    sqs_record,
)
from tests.functional.worker.helpers import job_message_body
from tests.functional.worker.tasks import EmptyParams

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """Every job message sent (job id, queue name, DelaySeconds), still sent to moto: SQS does not
    tell a receiver the delay a message was sent with."""
    sent: list[tuple[str, str, int]] = []
    real = jobs_queue_module.job_message_send

    def recording(*, message: JobMessage, queue_name: str, delay_seconds: int = 0) -> str:
        sent.append((str(message.job_id), queue_name, delay_seconds))
        return real(message=message, queue_name=queue_name, delay_seconds=delay_seconds)

    monkeypatch.setattr("django_app.jobs.services.job_message_send", recording)
    return sent


@pytest.fixture
def visibility(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The worker's ChangeMessageVisibility requests (message id, seconds), still applied on moto."""
    recorded: list[tuple[str, int]] = []
    real = batch_module.messages_visibility_change

    def recording(*, changes: list[Any]) -> int:
        recorded.extend((change.message_id, change.seconds) for change in changes)
        return real(changes=changes)

    monkeypatch.setattr(batch_module, "messages_visibility_change", recording)
    return recorded


def _at(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    """The worker's clock (timezone.now everywhere) reads ``moment``."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


def label_job(user: Any, path: Path, label: str, **options: Any) -> Job:
    return job_submit(owner=user, task_name="wt_label", params={"path": str(path), "label": label}, **options)


def test_a_task_due_in_20_minutes_is_held_released_by_the_sweep_in_time_and_never_run_early(
    user: Any,
    worker_queue: Any,
    worker_handler: Callable[..., dict[str, Any]],
    sends: list[tuple[str, str, int]],
    visibility: list[tuple[str, int]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = timezone.now()
    ran = tmp_path / "ran.txt"
    job = label_job(user, ran, "due", run_after=start + dt.timedelta(minutes=20))

    # Beyond SQS's 15-minute delay: held, nothing sent.
    assert sends == []
    assert Job.objects.get(pk=job.pk).enqueued_at is None

    # A message that arrives early anyway (an operator's or a sweep's re-send) is hidden until the
    # job is due, and spends no attempt.
    early = sqs_record(body=job_message_body(job_id=job.pk, task="wt_label"), queue_arn=worker_queue.arn)
    response = worker_handler(sqs_event(records=[early]), LambdaContextStub())
    assert response["batchItemFailures"] == [{"itemIdentifier": early["messageId"]}]
    ((message_id, seconds),) = visibility
    assert message_id == early["messageId"]
    assert 20 * 60 - 5 <= seconds <= 20 * 60
    job.refresh_from_db()
    assert (job.status, job.attempts, ran.exists()) == (JobStatus.QUEUED, 0, False)

    # 5 minutes in, the job is due in exactly 15 minutes: still too far for SQS, not sent.
    assert sweeps_run(names=["unsent"], now=start + dt.timedelta(minutes=5))["unsent"]["resent"] == 0
    assert sends == []

    # 6 minutes in: sent with the 14 minutes left as DelaySeconds.
    assert sweeps_run(names=["unsent"], now=start + dt.timedelta(minutes=6))["unsent"]["resent"] == 1
    ((sent_id, queue_name, delay),) = sends
    assert (sent_id, queue_name) == (str(job.pk), "default")
    assert 839 <= delay <= 840
    assert drain(worker_queue.url) == []  # SQS holds it back

    # 20 minutes in, its message is delivered and the worker runs it.
    _at(monkeypatch, start + dt.timedelta(minutes=20, seconds=1))
    due = sqs_record(body=job_message_body(job_id=job.pk, task="wt_label"), queue_arn=worker_queue.arn)
    assert worker_handler(sqs_event(records=[due]), LambdaContextStub()) == {"batchItemFailures": []}
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result) == (JobStatus.SUCCEEDED, 1, "due")
    assert ran.read_text() == "due\n"


def test_a_run_after_within_15_minutes_is_sent_at_once_with_a_delay(
    user: Any, worker_queue: Any, sends: list[tuple[str, str, int]], tmp_path: Path
) -> None:
    job = label_job(user, tmp_path / "ran.txt", "soon", run_after=timezone.now() + dt.timedelta(minutes=2))

    ((sent_id, _, delay),) = sends
    assert sent_id == str(job.pk)
    assert 115 <= delay <= 120
    assert Job.objects.get(pk=job.pk).enqueued_at is not None


def test_a_batch_runs_its_records_by_priority_highest_first(
    user: Any,
    settings: Any,
    worker_queue: Any,
    worker_handler: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    settings.JOBS_QUEUE_URL = ""  # messages are delivered by hand, in the batch order below
    order = tmp_path / "order.txt"
    low = label_job(user, order, "low", priority=-5)
    high = label_job(user, order, "high", priority=50)
    middle = label_job(user, order, "middle")
    records = [
        sqs_record(body=job_message_body(job_id=job.pk, task="wt_label"), queue_arn=worker_queue.arn)
        for job in (low, high, middle)
    ]

    assert worker_handler(sqs_event(records=records), LambdaContextStub()) == {"batchItemFailures": []}

    assert order.read_text().splitlines() == ["high", "middle", "low"]


def test_the_sweep_releases_held_jobs_by_priority_then_run_after(
    user: Any, settings: Any, worker_queue: Any, sends: list[tuple[str, str, int]], tmp_path: Path
) -> None:
    settings.JOBS_SWEEP_BATCH_LIMIT = 1
    start = timezone.now()
    path = tmp_path / "x.txt"
    later = label_job(user, path, "later", run_after=start + dt.timedelta(minutes=18))
    sooner = label_job(user, path, "sooner", run_after=start + dt.timedelta(minutes=17))
    urgent = label_job(user, path, "urgent", priority=10, run_after=start + dt.timedelta(minutes=19))
    assert sends == []

    for _ in range(3):
        sweeps_run(names=["unsent"], now=start + dt.timedelta(minutes=10))

    assert [job_id for job_id, _, _ in sends] == [str(urgent.pk), str(sooner.pk), str(later.pk)]


def test_a_job_goes_to_its_queue_and_the_long_queue_runs_long_tasks(
    user: Any, jobs_queue: str, jobs_long_queue: str, settings: Any, worker_handler: Callable[..., dict[str, Any]]
) -> None:
    long_job = job_submit(owner=user, task_name="wt_long", params={})  # the task's own queue
    short_on_long = job_submit(owner=user, task_name="wt_big", params={}, queue_name="long")

    assert drain(jobs_queue) == []
    messages = drain(jobs_long_queue)
    assert sorted(json.loads(m["Body"])["job_id"] for m in messages) == sorted(
        [str(long_job.pk), str(short_on_long.pk)]
    )
    assert Job.objects.get(pk=long_job.pk).queue_name == "long"

    # The long queue's worker (900 s) has the time for wt_long's 600 s.
    event = sqs_event_from_received(messages=messages, queue_arn=queue_arn_of(queue_url=jobs_long_queue))
    assert worker_handler(event, LambdaContextStub(remaining_seconds=900)) == {"batchItemFailures": []}
    assert Job.objects.get(pk=long_job.pk).result == "long"


def test_a_task_that_cannot_fit_its_queue_or_an_unknown_queue_is_refused(user: Any, jobs_queue: str) -> None:
    with pytest.raises(ValueError, match="does not fit the 300 s of queue 'default'"):
        task(name="wt_too_long", params=EmptyParams, timeout=295)
    with pytest.raises(ValueError, match="no queue named 'slow'"):
        task(name="wt_nowhere", params=EmptyParams, queue_name="slow")
    with pytest.raises(TaskTooLongForQueue):
        job_submit(owner=user, task_name="wt_long", params={}, queue_name="default")
    with pytest.raises(UnknownQueue):
        job_submit(owner=user, task_name="wt_big", params={}, queue_name="slow")
    assert not Job.objects.exists()
