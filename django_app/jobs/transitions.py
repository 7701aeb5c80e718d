"""How an attempt ends, decided but not yet written: the worker decides each job's end as its task
returns and writes a batch's ends together (``batch_sql.jobs_transition``).

Plain values, no queries: the worker's types and every writer import them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from contracts.job_event import JobEventType
from django_app.jobs.models import Job, JobStatus

KEEP = object()  # a transition that leaves a column as it is
AT_WRITE = object()  # a column set to the time of the write (finished_at: when the row says so)


def at_write(value: Any, now: dt.datetime) -> Any:
    return now if value is AT_WRITE else value


@dataclass
class JobTransition:
    """One attempt's state change, decided but not yet written: the worker writes a batch's together."""

    job: Job
    attempt: int
    event: JobEventType
    changes: dict[str, Any]


def transition_succeeded(*, job: Job, attempt: int, result: Any) -> JobTransition:
    changes = {
        "status": JobStatus.SUCCEEDED,
        "result": result,
        "progress": 100,
        "lease_until": None,
        "finished_at": AT_WRITE,
        "error_code": "",
        "error_message": "",
    }
    return JobTransition(job, attempt, "job.succeeded", changes)


def transition_failed(*, job: Job, attempt: int, code: str, message: str) -> JobTransition:
    changes = {
        "status": JobStatus.FAILED,
        "lease_until": None,
        "finished_at": AT_WRITE,
        "error_code": code[:64],
        "error_message": message[:2000],
    }
    return JobTransition(job, attempt, "job.failed", changes)


def transition_retry_later(*, job: Job, attempt: int, code: str, message: str, delay_seconds: int) -> JobTransition:
    """Back to queued after a failed attempt. ``enqueued_at`` is when the message shows again, so the
    stale-queued sweep measures from there and does not re-send a job that is only backing off."""
    changes = {
        "status": JobStatus.QUEUED,
        "lease_until": None,
        "enqueued_at": timezone.now() + dt.timedelta(seconds=delay_seconds),
        "note": f"attempt {attempt} of {job.max_attempts} failed; retrying in {delay_seconds} s",
        "error_code": code[:64],
        "error_message": message[:2000],
    }
    return JobTransition(job, attempt, "job.queued", changes)


def transition_cancelled(*, job: Job, attempt: int) -> JobTransition:
    """The task stopped by raising ``TaskCancelled``. Usually ``job_cancel`` already ended the job
    (then writing this changes nothing); if the task stopped on its own, it ends cancelled."""
    changes = {"status": JobStatus.CANCELLED, "lease_until": None, "finished_at": AT_WRITE, "note": "cancelled"}
    return JobTransition(job, attempt, "job.cancelled", changes)


def transition_released(*, job: Job, attempt: int) -> JobTransition:
    """Claimed with the batch but never started (too little time left): back to queued, and the
    attempt it never used is given back. Its message becomes visible again at once."""
    changes = {
        "status": JobStatus.QUEUED,
        "attempts": attempt - 1,
        "lease_until": None,
        "started_at": None,
        "enqueued_at": timezone.now(),
        "note": "returned unstarted: too little time was left in the worker",
    }
    return JobTransition(job, attempt, "job.queued", changes)
