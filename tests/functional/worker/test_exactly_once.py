"""A job runs to a terminal state once: duplicate deliveries, concurrent ones, and a killed worker."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from django_app.jobs.models import Job, JobStatus
from django_app.jobs.services import job_submit
from tests.aws import aws_client, drain
from tests.functional.worker.builders import LambdaContextStub, event_fixture, sqs_event_from_received
from tests.functional.worker.helpers import wait_until
from tests.functional.worker.tasks import count_lines

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[3]


def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (runs in the PostgreSQL pass: make test-postgres)")


def received_event(queue: Any) -> dict[str, Any]:
    """Receives the queue's one message and wraps it as Lambda would, without deleting it."""
    messages = aws_client("sqs").receive_message(
        QueueUrl=queue.url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], VisibilityTimeout=60
    )["Messages"]
    assert len(messages) == 1
    return sqs_event_from_received(messages=messages, queue_arn=queue.arn)


def test_the_same_message_delivered_twice_runs_the_task_once(
    user: Any, worker_queue: Any, worker_handler: Any, side_effect_file: Path
) -> None:
    job = job_submit(owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file)})
    event = received_event(worker_queue)

    first = worker_handler(copy.deepcopy(event), LambdaContextStub())
    second = worker_handler(copy.deepcopy(event), LambdaContextStub())

    assert first == second == {"batchItemFailures": []}
    assert count_lines(side_effect_file, "ran") == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)


def test_two_messages_for_one_job_in_one_batch_run_it_once(
    user: Any, worker_queue: Any, worker_handler: Any, side_effect_file: Path
) -> None:
    job = job_submit(owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file)})
    event = received_event(worker_queue)
    twin = copy.deepcopy(event["Records"][0])
    twin["messageId"] = "twin-" + twin["messageId"]  # e.g. the sweep re-sent it meanwhile
    event["Records"].append(twin)

    response = worker_handler(event, LambdaContextStub())

    assert response == {"batchItemFailures": []}
    assert count_lines(side_effect_file, "ran") == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)


@pytest.mark.postgres
def test_the_same_message_delivered_concurrently_runs_the_task_once(
    user: Any, worker_queue: Any, worker_handler: Any, side_effect_file: Path
) -> None:
    needs_postgres()
    job = job_submit(
        owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file), "sleep_seconds": 0.5}
    )
    event = received_event(worker_queue)
    start = threading.Barrier(2, timeout=10)
    # Both deliveries have read the job (queued) before either claims it: the worst interleaving,
    # forced rather than hoped for. Only the conditional UPDATE can now keep the second one out.
    both_read = threading.Barrier(2, timeout=5)
    responses: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def pause_before_first_update(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("UPDATE") and not both_read.broken:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
            both_read.abort()  # later UPDATEs of this batch go straight through
        return execute(sql, params, many, context)

    def deliver() -> None:
        try:
            start.wait()
            with connection.execute_wrapper(pause_before_first_update):
                responses.append(worker_handler(copy.deepcopy(event), LambdaContextStub()))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()  # each thread has its own connection; the test database must be left free

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert responses == [{"batchItemFailures": []}] * 2
    assert count_lines(side_effect_file, "ran") == 1
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)


def _database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("recovery", ["lease_sweep", "redelivery"])
def test_a_worker_killed_mid_task_leaves_a_job_that_finishes_exactly_once(
    user: Any,
    worker_queue: Any,
    worker_handler: Any,
    esm: Any,
    settings: Any,
    tmp_path: Path,
    recovery: str,
) -> None:
    needs_postgres()  # the worker subprocess must see the test database, which SQLite keeps in memory
    settings.JOBS_LEASE_GRACE_SECONDS = 0
    ran, started = tmp_path / "ran.txt", tmp_path / "started.txt"
    params = {"path": str(ran), "started_path": str(started), "sleep_seconds": 15, "sleep_first_start_only": True}
    job = job_submit(owner=user, task_name="wt_side_effect", params=params)  # timeout (lease) 2 s
    event = received_event(worker_queue)
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))

    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.functional.worker.killable_worker", str(event_file)],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": _database_url(), "JOBS_QUEUE_URL": worker_queue.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_until(lambda: count_lines(started, "started") == 1, timeout=30), worker.stderr
    finally:
        os.kill(worker.pid, signal.SIGKILL)  # only the process this test started
        worker.wait(timeout=10)
    assert worker.returncode == -signal.SIGKILL

    job.refresh_from_db()
    assert (job.status, job.attempts, count_lines(ran, "ran")) == (JobStatus.RUNNING, 1, 0)
    # While the dead worker's lease is live, a redelivery leaves the job alone (and is acknowledged).
    if job.lease_until is not None and job.lease_until > timezone.now() + dt.timedelta(milliseconds=300):
        assert worker_handler(copy.deepcopy(event), LambdaContextStub()) == {"batchItemFailures": []}
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert wait_until(lambda: Job.objects.get(pk=job.pk).lease_until < timezone.now(), timeout=5)

    if recovery == "lease_sweep":
        sweep = worker_handler(event_fixture(name="schedule_sweep.json"), LambdaContextStub())
        assert sweep["sweeps"]["leases"] == {"requeued": 1, "failed": 0, "skipped": 0}
        assert esm(worker_queue).failed_ids == set()  # the message the sweep sent
        # The dead worker's own message comes back too (after the visibility timeout): nothing runs.
        assert worker_handler(copy.deepcopy(event), LambdaContextStub()) == {"batchItemFailures": []}
    else:
        assert worker_handler(copy.deepcopy(event), LambdaContextStub()) == {"batchItemFailures": []}
        assert worker_handler(event_fixture(name="schedule_sweep.json"), LambdaContextStub())["sweeps"]["leases"] == {
            "requeued": 0,
            "failed": 0,
            "skipped": 0,
        }

    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert count_lines(started, "started") == 2
    assert count_lines(ran, "ran") == 1
    assert drain(worker_queue.url) == []
