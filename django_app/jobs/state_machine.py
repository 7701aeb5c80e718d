"""A job's state changes one row at a time: claim, progress, failure, lease renewal and expiry.

Each is one compare-and-swap UPDATE on ``seq``: it names the ``seq`` the caller read (and, once a
worker holds the job, its own attempt number), sets ``seq + 1`` and publishes exactly one event.
Every writer bumps ``seq``, so a lost race shows up as "0 rows" and nobody overwrites a state it
did not see. Running in autocommit, each UPDATE is one round trip and commits on its own. (The one
write that leaves ``seq`` alone, a worker renewing its own live lease, is invisible to clients and
compares the lease itself.)

A batch's claims and ends, in one statement each, are in ``batch_sql``; they keep these rules.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from contracts.job_event import JobEventType
from django_app.jobs.events import job_event_build
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.outbox import EventSink
from django_app.jobs.services import job_enqueue
from django_app.jobs.transitions import at_write, transition_failed
from django_app.jobs.worker_types import Claim, PoisonMessage

TRANSITION_TRIES = 3  # a seq CAS can only lose to another state change; three losses in a row = give up

WORKER_LOST = "The worker running this job stopped before it finished, and no attempts are left."


def job_transition_write(
    *,
    job: Job,
    event: JobEventType,
    sink: EventSink,
    statuses: Sequence[str],
    attempt: int | None = None,
    changes: dict[str, Any],
    reread: bool = True,
) -> bool:
    """Applies ``changes`` if the row still has ``job.seq``, one of ``statuses`` and (if given) ``attempt``.

    On success the in-memory ``job`` is updated and one event is added to ``sink``. With ``reread``,
    when only ``seq`` moved on (the row still matches otherwise), re-reads it and tries again, a few
    times at most; without it, the caller re-decides from the fresh row itself.
    """
    for _ in range(TRANSITION_TRIES if reread else 1):
        now = timezone.now()
        values = {field: at_write(value, now) for field, value in changes.items()}
        match = Job.objects.filter(pk=job.pk, seq=job.seq, status__in=list(statuses))
        if attempt is not None:
            match = match.filter(attempts=attempt)
        if match.update(seq=job.seq + 1, updated_at=now, **values):
            for field, value in values.items():
                setattr(job, field, value)
            job.seq += 1
            job.updated_at = now
            sink.add(job_event_build(job=job, type=event))
            return True
        if not reread:
            return False
        try:
            job.refresh_from_db()
        except Job.DoesNotExist:
            return False
        if job.status not in statuses or (attempt is not None and job.attempts != attempt):
            return False
    return False


def job_claim(
    *,
    job_id: uuid.UUID,
    task_name: str,
    lease_seconds: int,
    sink: EventSink,
    now: dt.datetime | None = None,
    known: Job | None = None,
) -> Claim:
    """Takes a job for one attempt: queued → running, or running with an expired lease → running.

    ``known`` is the row as read earlier (the worker reads a whole batch's jobs in one query). It
    may be stale: the claim is a compare-and-swap on ``seq``, so a stale row only costs a re-read.
    Raises ``PoisonMessage`` for an unknown job or a message naming another task than the job's.
    Any other outcome than ``claimed`` means the caller must not run the task (and may acknowledge).
    """
    job = known if known is not None and known.pk == job_id else Job.objects.filter(pk=job_id).first()
    for _ in range(TRANSITION_TRIES):
        if job is None:
            raise PoisonMessage("unknown_job", f"no job {job_id}")
        if job.task != task_name:
            raise PoisonMessage("task_mismatch", f"the message names {task_name!r}, job {job_id} runs {job.task!r}")
        now = now or timezone.now()
        if job.is_terminal:
            return Claim("terminal", job)
        if job.status == JobStatus.QUEUED and job.run_after is not None and job.run_after > now:
            # Never started early, and no attempt spent: the caller hides the message until then.
            return Claim("not_due", job)
        if job.status == JobStatus.RUNNING and job.lease_until is not None and job.lease_until > now:
            return Claim("leased", job)
        if job.status == JobStatus.RUNNING and job.attempts >= job.max_attempts:
            # The last attempt's worker died (its lease expired): nothing is left to retry.
            job_fail(job=job, attempt=job.attempts, code="worker_lost", message=WORKER_LOST, sink=sink)
            return Claim("exhausted", job)
        attempts = job.attempts + 1
        changed = job_transition_write(
            job=job,
            event="job.running",
            sink=sink,
            statuses=[job.status],
            # Not re-read here: the row that beat us may hold a live lease now, so decide again above.
            reread=False,
            changes={
                "status": JobStatus.RUNNING,
                "attempts": attempts,
                "lease_until": now + dt.timedelta(seconds=lease_seconds),
                "started_at": now,
                "progress": 0,
                "note": "",
                "error_code": "",
                "error_message": "",
            },
        )
        if changed:
            return Claim("claimed", job)
        job = Job.objects.filter(pk=job_id).first()
        now = None
    assert job is not None
    return Claim("contended", job)


def job_progress_record(*, job: Job, attempt: int, percent: int, note: str, sink: EventSink) -> bool:
    """False when the job is no longer this attempt's (cancelled, or taken over after a lost lease)."""
    return job_transition_write(
        job=job,
        event="job.progress",
        sink=sink,
        statuses=[JobStatus.RUNNING],
        attempt=attempt,
        changes={"progress": percent, "note": note},
    )


def job_fail(*, job: Job, attempt: int, code: str, message: str, sink: EventSink) -> bool:
    t = transition_failed(job=job, attempt=attempt, code=code, message=message)
    return job_transition_write(
        job=job, event=t.event, sink=sink, statuses=[JobStatus.RUNNING], attempt=attempt, changes=t.changes
    )


def job_lease_renew(*, job: Job, seconds: int) -> bool:
    """Moves a live lease to now + ``seconds`` (a job claimed with its batch starts later than the
    claim). Not a state change clients see: no event, no ``seq``. The compare is on the lease itself:
    while it is live nobody else can claim the job, and every other writer changes or clears it."""
    new = timezone.now() + dt.timedelta(seconds=seconds)
    changed = Job.objects.filter(
        pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts, lease_until=job.lease_until
    ).update(lease_until=new)
    if changed:
        job.lease_until = new
    return bool(changed)


def job_lease_expire(*, job: Job, sink: EventSink) -> str:
    """A running job whose worker died: retried while attempts remain, failed otherwise.

    Returns ``requeued``, ``failed`` or ``skipped`` (someone else changed it first). A requeued job's
    message is sent again at once.
    """
    if job.status != JobStatus.RUNNING:
        return "skipped"
    attempt = job.attempts
    if attempt >= job.max_attempts:
        return (
            "failed"
            if job_fail(job=job, attempt=attempt, code="worker_lost", message=WORKER_LOST, sink=sink)
            else "skipped"
        )
    requeued = job_transition_write(
        job=job,
        event="job.queued",
        sink=sink,
        statuses=[JobStatus.RUNNING],
        attempt=attempt,
        changes={
            "status": JobStatus.QUEUED,
            "lease_until": None,
            "enqueued_at": None,
            "note": f"attempt {attempt} of {job.max_attempts} was lost with its worker; retrying",
            "error_code": "worker_lost",
            "error_message": "The worker running this attempt stopped before it finished.",
        },
    )
    if not requeued:
        return "skipped"
    job_enqueue(job=job)
    return "requeued"
