"""The ends written before another task starts commit with ``synchronous_commit`` off (PostgreSQL); the
batch's last write is a synchronous commit (it flushes the WAL up to it, so the earlier ends too)
before the handler returns, and a record is acknowledged only once such a commit covers its end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from django_app.jobs.execution import executions_write
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.services import job_cancel, job_submit
from django_app.jobs.transitions import transition_succeeded
from django_app.jobs.worker_types import Execution
from tests.functional.worker.builders import LambdaContextStub, sqs_event, sqs_record
from tests.functional.worker.helpers import database_down_from_first_step, job_message_body, steps_hook

pytestmark = pytest.mark.django_db(transaction=True)
ARN = "arn:aws:sqs:us-east-1:123456789012:jobs-async-ends"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's (SQLite: nothing special)"
)


def record_for(job: Job) -> dict[str, Any]:
    return sqs_record(body=job_message_body(job_id=job.pk, task=job.task), queue_arn=ARN)


ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true)"


@dataclass
class Write:
    sql: str
    in_transaction: bool
    # The session's synchronous_commit when the statement was sent (PostgreSQL; "" on SQLite).
    synchronous_commit: str

    @property
    def commit(self) -> str:
        """How the statement's transaction commits: "async" when it turns synchronous_commit off
        for itself, else the session's setting."""
        return "async" if ASYNC_COMMIT in self.sql else self.synchronous_commit


@contextmanager
def writes() -> Iterator[list[Write]]:
    """Every UPDATE the handler sends, with the synchronous_commit in force as it runs (asked on the
    driver's own connection, around Django's cursor wrappers)."""
    seen: list[Write] = []

    def log(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("UPDATE"):
            setting = ""
            if connection.vendor == "postgresql":
                setting = context["connection"].connection.execute("SHOW synchronous_commit").fetchone()[0]
            seen.append(Write(sql, context["connection"].in_atomic_block, setting))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(log):
        yield seen


def is_end(write: Write) -> bool:
    return "finished_at = " in write.sql and "RETURNING" in write.sql  # set, not only returned


@postgresql_only
def test_each_end_commits_asynchronously_and_the_batch_ends_with_a_synchronous_commit(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.WORKER_FINISH_FLUSH_SECONDS = 0
    settings.JOBS_QUEUE_URL = ""
    first = job_submit(owner=user, task_name="word_count", params={"text": "one"})
    second = job_submit(owner=user, task_name="word_count", params={"text": "two"})
    third = job_submit(owner=user, task_name="wt_steps", params={"path": str(side_effect_file), "steps": 2})
    during_third: list[tuple[str, str, str]] = []

    def look(_: int) -> None:
        # The earlier ends are visible at once, and the setting did not outlive their transactions.
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            setting = cursor.fetchone()[0]
        during_third.append((Job.objects.get(pk=first.pk).status, Job.objects.get(pk=second.pk).status, setting))

    with steps_hook(look), writes() as seen:
        response = worker_handler(
            sqs_event(records=[record_for(first), record_for(second), record_for(third)]), LambdaContextStub()
        )

    assert response["batchItemFailures"] == []
    assert during_third == [(JobStatus.SUCCEEDED, JobStatus.SUCCEEDED, "on")]
    ends = [w for w in seen if is_end(w)]
    assert [(w.in_transaction, w.commit) for w in ends] == [(False, "async"), (False, "async"), (False, "on")]
    # The batch's last write is the third end, committed synchronously before the handler returned.
    assert seen[-1] is ends[-1]
    assert [Job.objects.get(pk=job.pk).status for job in (first, second, third)] == [JobStatus.SUCCEEDED] * 3


@postgresql_only
def test_a_last_end_that_writes_nothing_is_followed_by_a_synchronous_write(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    # The last job is cancelled during its task: its end changes no row, so its commit writes no WAL
    # and flushes nothing. A synchronous write of a row (invisible: seq = seq) must follow.
    settings.WORKER_FINISH_FLUSH_SECONDS = 0
    settings.JOBS_QUEUE_URL = ""
    first = job_submit(owner=user, task_name="word_count", params={"text": "one"})
    last = job_submit(owner=user, task_name="wt_steps", params={"path": str(side_effect_file), "steps": 2})

    seq_after_its_end: list[int] = []

    def cancel_last(_: int) -> None:
        seq_after_its_end.append(Job.objects.get(pk=first.pk).seq)
        job_cancel(job=Job.objects.get(pk=last.pk))

    with steps_hook(cancel_last), writes() as seen:
        response = worker_handler(sqs_event(records=[record_for(first), record_for(last)]), LambdaContextStub())

    assert response["batchItemFailures"] == []
    first.refresh_from_db()
    assert (first.status, Job.objects.get(pk=last.pk).status) == (JobStatus.SUCCEEDED, JobStatus.CANCELLED)
    ends = [w for w in seen if is_end(w)]
    assert (ends[0].in_transaction, ends[0].commit) == (False, "async")
    flush = seen[-1]
    assert '"seq" = "jobs_job"."seq"' in flush.sql
    assert (flush.in_transaction, flush.commit) == (False, "on")
    assert [first.seq] == seq_after_its_end  # the flush changed nothing clients see


@postgresql_only
def test_an_end_committed_asynchronously_is_not_acknowledged_when_the_final_commit_fails(
    user: Any, worker_handler: Any, side_effect_file: Path, settings: Any
) -> None:
    settings.WORKER_FINISH_FLUSH_SECONDS = 0
    settings.JOBS_QUEUE_URL = ""
    quick = job_submit(owner=user, task_name="word_count", params={"text": "quick"})
    steps = job_submit(owner=user, task_name="wt_steps", params={"path": str(side_effect_file), "steps": 2})

    with database_down_from_first_step():
        response = worker_handler(sqs_event(records=[record_for(quick), record_for(steps)]), LambdaContextStub())

    # The quick job's end was committed (asynchronously) but no synchronous commit followed: its record
    # comes back too (and finds the job ended). The second job's end was never written.
    assert len(response["batchItemFailures"]) == 2
    assert Job.objects.get(pk=quick.pk).status == JobStatus.SUCCEEDED
    assert Job.objects.get(pk=steps.pk).status == JobStatus.RUNNING


def test_sqlite_does_nothing_special_and_postgresql_commits_all_but_the_last_end_asynchronously(
    user: Any, worker_handler: Any, settings: Any
) -> None:
    settings.WORKER_FINISH_FLUSH_SECONDS = 0
    settings.JOBS_QUEUE_URL = ""
    jobs = [job_submit(owner=user, task_name="word_count", params={"text": f"job {n}"}) for n in range(2)]

    with writes() as seen:
        response = worker_handler(sqs_event(records=[record_for(job) for job in jobs]), LambdaContextStub())

    assert response["batchItemFailures"] == []
    ends = [w for w in seen if is_end(w)]
    expected = [(False, "async"), (False, "on")] if connection.vendor == "postgresql" else [(False, "")] * 2
    assert [(w.in_transaction, w.commit) for w in ends] == expected


@postgresql_only
def test_an_asynchronous_end_retried_on_its_own_hands_its_event_over_after_the_commit(user: Any) -> None:
    job = Job.objects.create(owner=user, task="wt_steps", status=JobStatus.RUNNING, attempts=1, seq=2)
    Job.objects.filter(pk=job.pk).update(seq=3)  # seq alone moved: the end is retried on its own (re-read)
    added_in_transaction: list[bool] = []

    class Sink:
        def add(self, event: Any) -> None:
            added_in_transaction.append(connection.in_atomic_block)

        def add_all(self, events: Any) -> None:
            added_in_transaction.extend(connection.in_atomic_block for _ in events)

    end = Execution("succeeded", job, transition=transition_succeeded(job=job, attempt=1, result={}))
    [written] = executions_write(executions=[end], sink=Sink(), asynchronous=True)

    assert written.outcome == "succeeded"
    assert added_in_transaction == [False]
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED


@postgresql_only
def test_an_asynchronous_end_turns_synchronous_commit_off_for_its_own_transaction_only(user: Any) -> None:
    """How the one statement makes its commit asynchronous: SET LOCAL's effect, from inside it. Seen
    here in an explicit transaction (the worker sends it in autocommit, its own transaction)."""
    job = Job.objects.create(owner=user, task="wt_steps", status=JobStatus.RUNNING, attempts=1, seq=2)
    end = Execution("succeeded", job, transition=transition_succeeded(job=job, attempt=1, result={}))

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    with transaction.atomic():
        before = setting()
        [written] = executions_write(executions=[end], sink=_NoSink(), asynchronous=True)
        inside = setting()
    after = setting()

    assert (before, inside, after) == ("on", "off", "on")
    assert written.outcome == "succeeded"
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED


class _NoSink:
    def add(self, event: Any) -> None:
        pass

    def add_all(self, events: Any) -> None:
        pass
