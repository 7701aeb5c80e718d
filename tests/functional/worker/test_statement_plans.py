"""The worker's claim and end statements read their rows by primary key, even when PostgreSQL's
statistics say that no job is queued or running: a backlog that arrived since the last ANALYZE.
Through a status index, each statement would walk every entry of that status (dead ones included)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection

from django_app.jobs.batch_sql import jobs_claim, jobs_transition
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.transitions import transition_succeeded

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


class Sink:
    def add(self, event: Any) -> None: ...

    def add_all(self, events: Any) -> None: ...


@contextmanager
def plans_of_updates() -> Iterator[list[str]]:
    """The plan PostgreSQL chooses for each UPDATE (EXPLAIN, not run), as JSON text."""
    plans: list[str] = []

    def explain(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("UPDATE"):
            with connection.connection.cursor() as cursor:
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                plans.append(json.dumps(cursor.fetchone()[0]))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        yield plans


def test_claims_and_ends_read_by_primary_key_when_the_statistics_predate_a_backlog(user: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    Job.objects.bulk_create(
        [Job(owner=user, task="t", status=JobStatus.SUCCEEDED, attempts=1, seq=3) for _ in range(300)]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jobs_job")  # statistics: no job queued or running
    backlog = Job.objects.bulk_create([Job(owner=user, task="t", seq=1) for _ in range(3000)])

    with plans_of_updates() as plans:
        claimed = jobs_claim(wanted={job.pk: ("t", 30) for job in backlog[:10]}, sink=Sink())
        job = claimed[backlog[0].pk]
        jobs_transition(
            transitions=[transition_succeeded(job=job, attempt=job.attempts, result={})], sink=Sink(), asynchronous=True
        )

    assert len(claimed) == 10
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
    assert len(plans) == 2
    for plan in plans:
        assert set(re.findall(r'"Index Name": "(\w+)"', plan)) == {"jobs_job_pkey"}, plan
