"""One statement for a whole SQS batch: the claim of its jobs, and the write of their ends.

Each statement that commits costs a WAL flush; per job, claim and finish were two of them. The
worker claims a batch's jobs in one ``UPDATE ... RETURNING`` and writes their final transitions
in another. Both keep the rules of the one-row writes (``state_machine``): the claim re-checks the
state in its WHERE clause, a final transition names each job's ``seq`` and attempt, and each row
changed gives exactly one event, added once the statement has committed.

NOT_BY_STATUS: these statements name their rows by primary key, and test the status with
``(...) IS TRUE``, which no index can answer, so PostgreSQL reads them by key. Given a plain
``status = ...`` it may pick the sweeps' index of that status instead (its statistics can say few
jobs are queued or running when a backlog arrived since the last ANALYZE), and that index holds an
entry for every job queued or run since the last vacuum: the cost of a claim or an end then grows
with the backlog instead of staying one key lookup per job.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from contracts.job_event import JobEvent
from django_app.jobs.durability import asynchronous_commit_condition
from django_app.jobs.events import job_event_build
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.outbox import EventSink
from django_app.jobs.state_machine import job_transition_write
from django_app.jobs.transitions import KEEP, JobTransition, at_write
from django_app.jobs.update_returning import db_value, placeholders, update_returning, update_returning_ids


def _add_after_commit(sink: EventSink, events: list[JobEvent]) -> None:
    """In autocommit (the worker) the statement has committed and this adds at once; inside a
    transaction, the events wait for its commit."""
    transaction.on_commit(lambda: sink.add_all(events))


def jobs_claim(
    *, wanted: dict[uuid.UUID, tuple[str, int]], sink: EventSink, now: dt.datetime | None = None
) -> dict[uuid.UUID, Job]:
    """Claims, in one statement, every job of ``wanted`` (job id → task name, lease seconds) that
    can be claimed now: queued, or running with an expired lease and attempts left, due (``run_after``
    past), and running the task named. Returns the claimed rows by id; ``job_claim`` decides about the others (terminal,
    leased, exhausted, unknown, another task), one by one. One ``job.running`` event per claimed job.
    """
    if not wanted:
        return {}
    now = now or timezone.now()
    by_task: dict[tuple[str, int], list[uuid.UUID]] = {}
    for job_id, task_lease in wanted.items():
        by_task.setdefault(task_lease, []).append(job_id)
    named, lease, named_params, lease_params = [], [], [], []
    for (task_name, seconds), ids in by_task.items():
        named.append(f"(id IN ({placeholders(len(ids))}) AND task = %s)")
        named_params += [*(db_value("id", job_id) for job_id in ids), task_name]
        lease.append("WHEN %s THEN %s")
        lease_params += [task_name, db_value("lease_until", now + dt.timedelta(seconds=seconds))]
    at = db_value("updated_at", now)
    claimed = update_returning(
        "SET status = %s, attempts = attempts + 1, lease_until = CASE task "
        + " ".join(lease)
        + " END, started_at = %s, progress = 0, note = '', error_code = '', error_message = '',"
        " seq = seq + 1, updated_at = %s"
        f" WHERE ({' OR '.join(named)})"
        # IS TRUE: see NOT_BY_STATUS.
        " AND ((status = %s OR (status = %s AND (lease_until IS NULL OR lease_until <= %s)"
        " AND attempts < max_attempts)) IS TRUE)"
        # Never before its run_after: a message that came early (a re-send) is decided by job_claim.
        " AND (run_after IS NULL OR run_after <= %s)",
        [
            JobStatus.RUNNING.value,
            *lease_params,
            at,
            at,
            *named_params,
            JobStatus.QUEUED.value,
            JobStatus.RUNNING.value,
            at,
            db_value("run_after", now),
        ],
    )
    _add_after_commit(sink, [job_event_build(job=job, type="job.running") for job in claimed])
    return {job.pk: job for job in claimed}


def jobs_transition(
    *, transitions: Sequence[JobTransition], sink: EventSink, asynchronous: bool = False
) -> set[uuid.UUID]:
    """Writes final transitions of running attempts, all in one statement; returns the ids changed.

    Each row must still be running with the ``seq`` and attempt its transition names. A row that
    no longer is (cancelled, taken over after a lost lease) is left alone; one whose ``seq`` alone
    moved is retried on its own by ``job_transition_write``, which re-reads it.

    ``asynchronous`` (call it in autocommit): the statement commits without waiting for its WAL
    flush where ``durability`` says the database can.
    """
    if not transitions:
        return set()
    now = timezone.now()
    assignments = ["seq = seq + 1", "updated_at = %s"]
    params: list[Any] = [db_value("updated_at", now)]
    for name in sorted({name for t in transitions for name in t.changes}):
        values = [at_write(t.changes.get(name, KEEP), now) for t in transitions]
        if all(v is not KEEP and v == values[0] for v in values):  # the usual batch: one value for all
            assignments.append(f"{name} = %s")
            params.append(db_value(name, values[0]))
            continue
        cases = [(t.job.pk, v) for t, v in zip(transitions, values, strict=True) if v is not KEEP]
        assignments.append(f"{name} = CASE id {' '.join(['WHEN %s THEN %s'] * len(cases))} ELSE {name} END")
        for job_id, value in cases:
            params += [db_value("id", job_id), db_value(name, value)]
    match = " OR ".join(["(id = %s AND seq = %s AND attempts = %s)"] * len(transitions))
    ids = [db_value("id", t.job.pk) for t in transitions]
    params += ids
    for t, job_id in zip(transitions, ids, strict=True):
        params += [job_id, t.job.seq, t.attempt]
    where = f"id IN ({placeholders(len(ids))}) AND ({match}) AND (status = %s) IS TRUE"  # NOT_BY_STATUS
    where += asynchronous_commit_condition(asynchronous=asynchronous)
    done = set(update_returning_ids(f"SET {', '.join(assignments)} WHERE {where}", [*params, JobStatus.RUNNING.value]))
    written = [t for t in transitions if t.job.pk in done]
    for t in written:
        # The row matched this seq, so it has seq + 1 now, and exactly the values written.
        for name, value in t.changes.items():
            setattr(t.job, name, at_write(value, now))
        t.job.seq += 1
        t.job.updated_at = now
    _add_after_commit(sink, [job_event_build(job=t.job, type=t.event) for t in written])
    for t in transitions:
        if t.job.pk not in done and job_transition_write(
            job=t.job, event=t.event, sink=sink, statuses=[JobStatus.RUNNING], attempt=t.attempt, changes=t.changes
        ):
            done.add(t.job.pk)
    return done
