"""A batch's jobs are claimed in one statement and finished in another; what cannot be claimed so is
decided record by record, and a claimed job that never started is given back."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from django_app.jobs.models import Job, JobStatus
from django_app.jobs.services import job_cancel, job_submit
from tests.aws import aws_client, drain
from tests.functional.worker import tasks
from tests.functional.worker.builders import LambdaContextStub, sqs_event, sqs_event_from_received, sqs_record
from tests.functional.worker.helpers import database_down_from_first_step, events_of, job_message_body
from tests.functional.worker.tasks import count_lines

pytestmark = pytest.mark.django_db(transaction=True)
ARN = "arn:aws:sqs:us-east-1:123456789012:jobs-batch-claim"


@pytest.fixture(autouse=True)
def batched_writes(settings: Any) -> None:
    """The batch-write mode (off by default: see WorkerConf.finish_flush_seconds) is what these test."""
    settings.WORKER_FINISH_FLUSH_SECONDS = 0.25


def record_for(job: Job, *, task: str | None = None, queue_arn: str = ARN) -> dict[str, Any]:
    return sqs_record(body=job_message_body(job_id=job.pk, task=task or job.task), queue_arn=queue_arn)


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def log(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(log):
        yield seen


def writes(seen: list[str]) -> list[str]:
    return [sql for sql in seen if sql.lstrip().upper().startswith("UPDATE")]


def test_a_batch_is_claimed_in_one_statement_and_finished_in_another_and_a_duplicate_runs_nothing(
    user: Any, worker_handler: Any, side_effect_file: Path, events_topic: tuple[str, str], settings: Any
) -> None:
    settings.JOBS_QUEUE_URL = ""  # messages are delivered by hand
    jobs = [
        job_submit(owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file)}) for _ in range(3)
    ]
    records = [record_for(job) for job in jobs]
    records.insert(2, record_for(jobs[0]))  # the same job again (a re-send) in the same batch

    with statements() as seen:
        response = worker_handler(sqs_event(records=records), LambdaContextStub())

    assert response == {"batchItemFailures": []}
    assert count_lines(side_effect_file, "ran") == 3
    assert len(writes(seen)) == 2  # the claim and the finish, for the whole batch
    events = events_of(queue_url=events_topic[1], job_id=None, expect=9)  # every job's, read at once
    for job in jobs:
        job.refresh_from_db()
        assert (job.status, job.attempts, job.seq, job.lease_until) == (JobStatus.SUCCEEDED, 1, 3, None)
        assert [(e.type, e.seq) for e in events if e.job_id == job.pk] == [
            ("job.queued", 1),
            ("job.running", 2),
            ("job.succeeded", 3),
        ]


def test_jobs_the_batch_cannot_claim_are_decided_one_by_one(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.JOBS_QUEUE_URL = ""
    params = {"path": str(side_effect_file)}
    now = timezone.now()

    def job(**fields: Any) -> Job:
        created = job_submit(owner=user, task_name="wt_side_effect", params=params)
        Job.objects.filter(pk=created.pk).update(**fields)
        created.refresh_from_db()
        return created

    queued = job()
    cancelled = job_cancel(job=job())
    leased = job(status=JobStatus.RUNNING, attempts=1, seq=2, lease_until=now + dt.timedelta(minutes=5))
    expired = job(status=JobStatus.RUNNING, attempts=1, seq=2, lease_until=now - dt.timedelta(seconds=1))
    exhausted = job(status=JobStatus.RUNNING, attempts=3, seq=6, lease_until=now - dt.timedelta(seconds=1))
    mismatch = job()
    unknown = Job(pk=uuid.uuid4(), task="wt_side_effect")
    poison = {"mismatch": record_for(mismatch, task="wt_refuse"), "unknown": record_for(unknown)}
    records = [
        record_for(queued),
        record_for(cancelled),
        record_for(leased),
        poison["mismatch"],
        record_for(expired),
        record_for(exhausted),
        poison["unknown"],
    ]

    with statements() as seen:
        response = worker_handler(sqs_event(records=records), LambdaContextStub())

    assert {item["itemIdentifier"] for item in response["batchItemFailures"]} == {
        r["messageId"] for r in poison.values()
    }
    assert count_lines(side_effect_file, "ran") == 2  # queued and expired: nothing else ran
    status = {j.pk: Job.objects.get(pk=j.pk) for j in (queued, cancelled, leased, expired, exhausted, mismatch)}
    assert (status[queued.pk].status, status[queued.pk].attempts) == (JobStatus.SUCCEEDED, 1)
    assert (status[expired.pk].status, status[expired.pk].attempts) == (JobStatus.SUCCEEDED, 2)
    assert (status[cancelled.pk].status, status[cancelled.pk].attempts) == (JobStatus.CANCELLED, 0)
    assert (status[leased.pk].status, status[leased.pk].seq) == (JobStatus.RUNNING, 2)
    assert (status[exhausted.pk].status, status[exhausted.pk].error_code) == (JobStatus.FAILED, "worker_lost")
    assert (status[mismatch.pk].status, status[mismatch.pk].attempts) == (JobStatus.QUEUED, 0)
    # One claim for the batch, the worker_lost failure, and one finish for the two that ran.
    assert len(writes(seen)) == 3


class ShrinkingContext(LambdaContextStub):
    """A Lambda context whose time left a task can cut short, as a long first task would."""

    def __init__(self, *, remaining_seconds: float) -> None:
        super().__init__(remaining_seconds=remaining_seconds)
        self.left: float | None = None

    def get_remaining_time_in_millis(self) -> int:
        return int(self.left * 1000) if self.left is not None else super().get_remaining_time_in_millis()


def test_a_claimed_job_whose_turn_comes_too_late_is_given_back_and_its_message_returns_at_once(
    user: Any, worker_queue: Any, worker_handler: Any, esm: Any, side_effect_file: Path, events_topic: tuple[str, str]
) -> None:
    first = job_submit(owner=user, task_name="wt_steps", params={"path": str(side_effect_file), "steps": 2})
    second = job_submit(owner=user, task_name="word_count", params={"text": "late"})  # timeout 30 s
    sqs = aws_client("sqs")
    messages = sqs.receive_message(
        QueueUrl=worker_queue.url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    messages.sort(key=lambda m: str(second.pk) in m["Body"])  # the long one first
    context = ShrinkingContext(remaining_seconds=900)

    def time_runs_out(step: int) -> None:
        context.left = 35  # < 30 s + the 10 s margin: the second job no longer fits

    tasks.HOOKS["wt_steps"] = time_runs_out
    try:
        response = worker_handler(sqs_event_from_received(messages=messages, queue_arn=worker_queue.arn), context)
    finally:
        tasks.HOOKS.pop("wt_steps")

    assert response == {"batchItemFailures": [{"itemIdentifier": messages[1]["MessageId"]}]}
    sqs.delete_message(QueueUrl=worker_queue.url, ReceiptHandle=messages[0]["ReceiptHandle"])  # as Lambda would
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == JobStatus.SUCCEEDED
    # Given back: queued, the attempt it never used returned, no lease left to wait for.
    assert (second.status, second.attempts, second.lease_until, second.started_at) == (JobStatus.QUEUED, 0, None, None)
    events = events_of(queue_url=events_topic[1], job_id=second.pk, expect=3)
    assert [(e.type, e.seq) for e in events] == [("job.queued", 1), ("job.running", 2), ("job.queued", 3)]

    # Its message is visible again at once, and the next invocation runs the job.
    poll = esm(worker_queue)
    assert poll is not None
    assert poll.message_ids == {messages[1]["MessageId"]}
    assert poll.failed_ids == set()
    second.refresh_from_db()
    assert (second.status, second.attempts, second.result["words"]) == (JobStatus.SUCCEEDED, 1, 1)
    assert drain(worker_queue.url) == []


def test_a_job_claimed_with_its_batch_gets_a_full_lease_when_it_starts_and_waits_for_no_one(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.JOBS_QUEUE_URL = ""
    slow = job_submit(
        owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file), "sleep_seconds": 1.5}
    )
    later = job_submit(owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file)})
    seen: list[tuple[dt.datetime, dt.datetime, str]] = []  # later's lease, when, slow's status

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if sql.lstrip().upper().startswith("UPDATE"):
            lease = Job.objects.filter(pk=later.pk).values_list("lease_until", flat=True).first()
            if lease is not None:
                seen.append((lease, timezone.now(), Job.objects.get(pk=slow.pk).status))
        return result

    with connection.execute_wrapper(watch):
        response = worker_handler(sqs_event(records=[record_for(slow), record_for(later)]), LambdaContextStub())

    assert response == {"batchItemFailures": []}
    # Both claimed with a 2 s lease; the first task took 1.5 s, so before the second one started its
    # lease was renewed to a full 2 s, and the first job's success was written rather than left
    # waiting behind a task that could outlast its lease.
    (claimed_lease, _, _), (renewed_lease, renewed_at, slow_status) = seen[0], seen[-1]
    assert renewed_lease - renewed_at >= dt.timedelta(seconds=1.5)
    assert renewed_lease > claimed_lease
    assert slow_status == JobStatus.SUCCEEDED
    assert Job.objects.get(pk=later.pk).status == JobStatus.SUCCEEDED


def test_a_job_whose_lease_ran_out_before_its_turn_is_given_back(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.JOBS_QUEUE_URL = ""
    slow = job_submit(
        owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file), "sleep_seconds": 2.2}
    )
    later = job_submit(owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file)})
    records = [record_for(slow), record_for(later)]

    response = worker_handler(sqs_event(records=records), LambdaContextStub())

    # The 2 s lease of the second job ran out while the first ran: another worker may have taken
    # it, so it is not run here; it is given back and its message returns at once.
    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["messageId"]}]}
    later.refresh_from_db()
    assert (later.status, later.attempts, later.lease_until) == (JobStatus.QUEUED, 0, None)
    assert count_lines(side_effect_file, "ran") == 1


def test_a_database_lost_before_the_batch_is_written_acknowledges_nothing(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.JOBS_QUEUE_URL = ""
    quick = job_submit(owner=user, task_name="word_count", params={"text": "quick"})
    steps = job_submit(owner=user, task_name="wt_steps", params={"path": str(side_effect_file), "steps": 3})

    with database_down_from_first_step():
        response = worker_handler(sqs_event(records=[record_for(quick), record_for(steps)]), LambdaContextStub())

    # The quick job ran, but its success was never written: its record is not acknowledged either.
    assert len(response["batchItemFailures"]) == 2
    assert Job.objects.get(pk=quick.pk).status == JobStatus.RUNNING
    assert Job.objects.get(pk=steps.pk).status == JobStatus.RUNNING


def test_by_default_each_end_is_written_before_the_next_task_starts(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    # A worker killed during the second task must not have left the first one's end unwritten
    # (its message would come back and run a finished task again).
    settings.WORKER_FINISH_FLUSH_SECONDS = 0
    settings.JOBS_QUEUE_URL = ""
    first = job_submit(owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file)})
    second = job_submit(owner=user, task_name="wt_steps", params={"path": str(side_effect_file), "steps": 2})
    first_status_during_second: list[str] = []

    def look(_: int) -> None:
        first_status_during_second.append(Job.objects.get(pk=first.pk).status)

    tasks.HOOKS["wt_steps"] = look
    try:
        worker_handler(sqs_event(records=[record_for(first), record_for(second)]), LambdaContextStub())
    finally:
        tasks.HOOKS.pop("wt_steps", None)
    assert first_status_during_second == [JobStatus.SUCCEEDED]


def _status_of_each_during_the_next(
    worker_handler: Any, jobs: list[Job], side_effect_file: Path
) -> tuple[dict[str, Any], list[list[str]], int]:
    """Runs the jobs as one batch, the last one a ``wt_steps`` job, and reads the other jobs' statuses
    while it runs; returns the answer, those statuses and how many statements wrote ends."""
    seen_during_last: list[list[str]] = []

    def look(_: int) -> None:
        seen_during_last.append([Job.objects.get(pk=job.pk).status for job in jobs[:-1]])

    tasks.HOOKS["wt_steps"] = look
    try:
        with statements() as seen:
            response = worker_handler(sqs_event(records=[record_for(job) for job in jobs]), LambdaContextStub())
    finally:
        tasks.HOOKS.pop("wt_steps", None)
    return response, seen_during_last, len([sql for sql in writes(seen) if "finished_at = " in sql])


def test_the_ends_of_idempotent_tasks_wait_to_be_written_together(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.WORKER_FINISH_FLUSH_SECONDS = 0  # the default: only the tasks' own declaration batches
    settings.WORKER_IDEMPOTENT_FLUSH_SECONDS = 5
    settings.JOBS_QUEUE_URL = ""
    params = {"path": str(side_effect_file)}
    jobs = [job_submit(owner=user, task_name="wt_idempotent", params=params) for _ in range(3)]
    jobs.append(job_submit(owner=user, task_name="wt_steps", params={**params, "steps": 2}))

    response, during_last, end_writes = _status_of_each_during_the_next(worker_handler, jobs, side_effect_file)

    assert response == {"batchItemFailures": []}
    # Still unwritten while the next task ran (a worker killed then would run them again, which
    # their declaration allows), then written with its end: one statement for the batch's ends.
    assert during_last == [[JobStatus.RUNNING] * 3]
    assert end_writes == 1
    assert count_lines(side_effect_file, "ran") == 3
    assert {Job.objects.get(pk=job.pk).status for job in jobs} == {JobStatus.SUCCEEDED}


def test_a_task_not_declared_idempotent_has_its_end_written_before_the_next_task_starts(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.WORKER_FINISH_FLUSH_SECONDS = 0
    settings.WORKER_IDEMPOTENT_FLUSH_SECONDS = 5
    settings.JOBS_QUEUE_URL = ""
    params = {"path": str(side_effect_file)}
    jobs = [
        job_submit(owner=user, task_name="wt_idempotent", params=params),
        job_submit(owner=user, task_name="wt_side_effect", params=params),
        job_submit(owner=user, task_name="wt_steps", params={**params, "steps": 2}),
    ]

    response, during_last, end_writes = _status_of_each_during_the_next(worker_handler, jobs, side_effect_file)

    assert response == {"batchItemFailures": []}
    # The strict job's end could not wait, and the idempotent one waiting with it was written too.
    assert during_last == [[JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]]
    assert end_writes == 2  # the first two together, before the last task; then the last one


def test_idempotent_ends_wait_no_longer_than_their_interval(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.WORKER_FINISH_FLUSH_SECONDS = 0
    settings.WORKER_IDEMPOTENT_FLUSH_SECONDS = 0  # an operator may turn the batching off
    settings.JOBS_QUEUE_URL = ""
    params = {"path": str(side_effect_file)}
    jobs = [
        job_submit(owner=user, task_name="wt_idempotent", params=params),
        job_submit(owner=user, task_name="wt_steps", params={**params, "steps": 2}),
    ]

    response, during_last, _ = _status_of_each_during_the_next(worker_handler, jobs, side_effect_file)

    assert response == {"batchItemFailures": []}
    assert during_last == [[JobStatus.SUCCEEDED]]
