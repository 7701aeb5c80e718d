"""A task's own retry back-off (``@task(retry_delay=, retry_backoff=, retry_max_delay=)``): the
options' validation, the delays they give, and the visibility a failed attempt's message gets."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import BaseModel

from django_app.jobs.conf import worker_conf
from django_app.jobs.execution import retry_delay
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.registry import task, task_get
from django_app.jobs.retry_policy import MAX_RETRY_DELAY_SECONDS, RetryPolicy, retry_policy_of
from django_app.jobs.services import job_submit
from functions.worker import batch
from functions.worker.visibility import VisibilityChange
from tests.aws import aws_client


class NoParams(BaseModel):
    pass


def delays(policy: RetryPolicy, *, attempts: int, rand: float) -> list[int]:
    return [
        retry_delay(
            attempt=attempt, base=policy.base_seconds, cap=policy.max_seconds, factor=policy.factor, rand=lambda: rand
        )
        for attempt in range(1, attempts + 1)
    ]


def test_a_constant_backoff_waits_the_same_delay_every_attempt() -> None:
    policy = RetryPolicy(base_seconds=7, factor=1, max_seconds=900)
    assert delays(policy, attempts=5, rand=1.0) == [7, 7, 7, 7, 7]
    assert delays(policy, attempts=5, rand=0.0) == [4, 4, 4, 4, 4]  # jitter kept: [d/2, d], rounded up


def test_an_exponential_backoff_grows_by_its_factor_until_its_cap() -> None:
    assert delays(RetryPolicy(base_seconds=5, factor=3, max_seconds=200), attempts=5, rand=1.0) == [5, 15, 45, 135, 200]
    assert delays(RetryPolicy(base_seconds=5, factor=1.5, max_seconds=900), attempts=3, rand=1.0) == [5, 8, 12]


def test_no_delay_is_longer_than_sqs_accepts() -> None:
    policy = RetryPolicy(base_seconds=MAX_RETRY_DELAY_SECONDS, factor=10, max_seconds=MAX_RETRY_DELAY_SECONDS)
    assert max(delays(policy, attempts=10, rand=1.0)) == MAX_RETRY_DELAY_SECONDS


def test_a_task_without_options_keeps_the_workers_backoff(settings: Any) -> None:
    settings.WORKER_RETRY_BASE_SECONDS = 3
    settings.WORKER_RETRY_MAX_SECONDS = 50
    spec = task_get("wt_crash")
    assert spec is not None
    assert retry_policy_of(spec=spec, conf=worker_conf()) == RetryPolicy(base_seconds=3, factor=2, max_seconds=50)


def test_a_task_with_options_has_its_own_backoff(settings: Any) -> None:
    settings.WORKER_RETRY_MAX_SECONDS = 4
    spec = task_get("wt_crash_constant")
    assert spec is not None
    # Its own first delay is not cut by the worker's smaller cap.
    assert retry_policy_of(spec=spec, conf=worker_conf()) == RetryPolicy(base_seconds=7, factor=1, max_seconds=7)


def test_a_django_task_takes_the_same_retry_options_through_job_options() -> None:
    from tests.functional.worker.django_tasks_sample import flaky_with_backoff

    spec = task_get(flaky_with_backoff.module_path)
    assert spec is not None
    policy = retry_policy_of(spec=spec, conf=worker_conf())
    assert policy == RetryPolicy(base_seconds=5, factor=3, max_seconds=100)
    assert delays(policy, attempts=4, rand=1.0) == [5, 15, 45, 100]


def test_job_options_refuse_what_task_refuses() -> None:
    from django_app.jobs.django_task_bridge import job_options

    with pytest.raises(ValueError, match="retry_backoff must be from 1"):
        job_options(retry_backoff=0.5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retry_delay": -1}, "retry_delay must be from 0 to 43200"),
        ({"retry_delay": 43_201}, "retry_delay must be from 0 to 43200"),
        ({"retry_max_delay": -0.5}, "retry_max_delay must be from 0 to 43200"),
        ({"retry_max_delay": 86_400}, "retry_max_delay must be from 0 to 43200"),
        ({"retry_backoff": 0.5}, "retry_backoff must be from 1"),
        ({"retry_backoff": 11}, "retry_backoff must be from 1"),
        ({"retry_delay": 60, "retry_max_delay": 30}, "retry_delay must not exceed retry_max_delay"),
    ],
)
def test_options_sqs_or_reason_would_refuse_fail_at_declaration(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        task(name="never_registered", params=NoParams, **options)
    assert task_get("never_registered") is None


@pytest.mark.django_db(transaction=True)
def test_a_failed_task_with_a_constant_7_s_delay_comes_back_in_about_7_s(
    user: Any, worker_queue: Any, esm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[VisibilityChange] = []
    real_change = batch.messages_visibility_change

    def recording_change(*, changes: list[VisibilityChange]) -> int:
        applied.extend(changes)
        accepted = real_change(changes=changes)
        assert accepted == len(changes)  # SQS took the visibility
        return accepted

    monkeypatch.setattr(batch, "messages_visibility_change", recording_change)
    job = job_submit(owner=user, task_name="wt_crash_constant", params={})

    for attempt in (1, 2):
        delivery = esm(worker_queue)
        assert delivery is not None
        assert delivery.failed_ids == delivery.message_ids
        (change,) = applied[attempt - 1 :]
        # 7 s jittered into [3.5, 7] and rounded up, on every attempt (the worker's fixture back-off
        # is 2 s capped at 4, and a factor of 2 would give attempt 2 up to 14 s).
        assert 4 <= change.seconds <= 7, change
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.QUEUED, attempt)
        assert job.enqueued_at is not None
        assert math.isclose((job.enqueued_at - job.updated_at).total_seconds(), change.seconds, abs_tol=1)
        # Invisible for that long; made visible now so the test goes on without waiting.
        sqs = aws_client("sqs")
        assert sqs.receive_message(QueueUrl=worker_queue.url, WaitTimeSeconds=0).get("Messages") is None
        sqs.change_message_visibility(
            QueueUrl=worker_queue.url, ReceiptHandle=change.receipt_handle, VisibilityTimeout=0
        )

    assert esm(worker_queue) is not None  # the third and last attempt fails the job for good
    assert len(applied) == 2
    assert Job.objects.get(pk=job.pk).status == JobStatus.FAILED
