"""The database unreachable during a batch: every record fails, nothing is acknowledged, nothing lost."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError, connection

from django_app.jobs.models import Job, JobStatus
from django_app.jobs.services import job_submit
from tests.aws import drain
from tests.db_pings import pings_counted

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


@contextlib.contextmanager
def database_down() -> Iterator[None]:
    """PostgreSQL: the connection is dropped and points at a port where nothing listens (a real
    connect failure). SQLite keeps the test database in memory and cannot be reopened elsewhere, so
    every statement fails the way a lost connection does instead."""
    if connection.vendor == "postgresql":
        saved = connection.settings_dict["PORT"]
        connection.close()
        connection.settings_dict["PORT"] = _closed_port()
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict["PORT"] = saved
        return

    def refuse(*args: Any) -> Any:
        raise OperationalError("database unavailable (simulated)")

    with connection.execute_wrapper(refuse):
        yield


def test_an_unreachable_database_fails_every_record_and_loses_no_job(user: Any, worker_queue: Any, esm: Any) -> None:
    jobs = [job_submit(owner=user, task_name="word_count", params={"text": f"job {n}"}) for n in range(4)]

    with database_down():
        delivery = esm(worker_queue)

    assert delivery is not None
    assert len(delivery.message_ids) == 4
    assert delivery.failed_ids == delivery.message_ids
    assert all(Job.objects.get(pk=job.pk).status == JobStatus.QUEUED for job in jobs)
    assert all(Job.objects.get(pk=job.pk).attempts == 0 for job in jobs)

    # Back up: the same messages (none was deleted) run every job.
    for _ in range(5):  # bounded: a few polls
        if esm(worker_queue) is None:
            break
    assert [Job.objects.get(pk=job.pk).status for job in jobs] == [JobStatus.SUCCEEDED] * 4
    assert drain(worker_queue.url) == []


def test_sweeps_skip_a_run_while_the_database_is_unreachable(caplog: Any) -> None:
    from functions.worker.schedule import schedule_handle

    with database_down():
        answer = schedule_handle(event={"sweep": "all"})

    assert answer == {"sweeps": {name: "database_unavailable" for name in ("unsent", "leases", "purge", "republish")}}
    assert not any(record.exc_info for record in caplog.records)  # an expected state: no traceback


def test_a_batch_whose_end_write_fails_once_writes_it_on_a_new_connection(
    user: Any, worker_queue: Any, esm: Any, side_effect_file: Any
) -> None:
    # A database restart kills the connection between the task and the write of its end: the
    # task must not run again because its end was never written.
    job = job_submit(owner=user, task_name="wt_side_effect", params={"path": str(side_effect_file)})
    updates: list[str] = []

    def fail_the_end_once(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # An end sets finished_at; the claim only returns it.
        if sql.lstrip().upper().startswith("UPDATE") and "finished_at = " in sql:
            updates.append(sql)
            if len(updates) == 1:  # the end's first write
                raise OperationalError("server closed the connection unexpectedly (simulated)")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail_the_end_once):
        delivery = esm(worker_queue)

    assert delivery is not None
    assert delivery.failed_ids == set()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    assert side_effect_file.read_text().count("ran") == 1


def test_a_connection_cut_between_records_without_a_ping_loses_no_end(
    user: Any, worker_queue: Any, esm: Any, settings: Any, side_effect_file: Any
) -> None:
    """A kept connection that answered a moment ago is not pinged before the next record
    (DATABASE_HEALTH_CHECK_TRUST_SECONDS); a server restart right then fails the next end's write,
    which is written again on a new connection: every job ends once, no record is reported."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (runs in the PostgreSQL pass: make test-postgres)")
    from tests.functional.django_api.postgres_cut import own_backend_terminate

    settings.DATABASE_HEALTH_CHECK_TRUST_SECONDS = 60.0
    # Tasks that use no database: the cut is met by the next end's write, not by a progress write.
    params = {"path": str(side_effect_file)}
    jobs = [job_submit(owner=user, task_name="wt_side_effect", params=params) for _ in range(3)]
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    ends: list[str] = []

    def cut_after_the_first_end(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        is_end = sql.startswith("UPDATE") and "finished_at = " in sql
        if is_end:
            ends.append(sql)
        result = execute(sql, params, many, context)
        if is_end and len(ends) == 1:
            own_backend_terminate()  # as a restart would, while the next task runs
        return result

    try:
        with pings_counted() as pings, connection.execute_wrapper(cut_after_the_first_end):
            delivery = esm(worker_queue)
    finally:
        connection.close()
        connection.settings_dict.update(saved)

    assert delivery is not None
    assert delivery.failed_ids == set()
    assert pings == [0]
    assert len(ends) == 4  # three ends, the second one twice (its first try met the cut)
    for job in jobs:
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)
    assert side_effect_file.read_text().count("ran") == 3
