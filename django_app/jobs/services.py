"""Writes to jobs. The API, the admin, the worker and the sweeps all go through these functions.

Every change clients can see bumps ``seq`` in the same UPDATE, and state changes are conditional on
the state the caller saw, so two actors racing (a cancel and a worker, two deliveries) cannot both
win. (The one write that leaves ``seq`` alone, a worker renewing its own live lease, is invisible to
clients and compares the lease itself.)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Field
from django.utils import timezone
from pydantic import ValidationError

from contracts.job_event import JobEvent, JobEventType
from contracts.job_message import JobMessage
from django_app.jobs.errors import InvalidParams, JobConflict, ParamsTooLarge, QueueUnavailable, UnknownTask
from django_app.jobs.events import job_event_build, job_events_publish
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.outbox import EventSink
from django_app.jobs.queue import job_message_send
from django_app.jobs.registry import task_get
from django_app.jobs.worker_types import Claim, PoisonMessage

logger = logging.getLogger(__name__)


def _validated_params(task_name: str, params: Any) -> dict[str, Any]:
    spec = task_get(task_name)
    if spec is None:
        raise UnknownTask(f"There is no task named {task_name!r}.")
    if not isinstance(params, dict):
        raise InvalidParams("`params` must be a JSON object.", fields={"params": ["Expected an object."]})
    size = len(json.dumps(params, separators=(",", ":"), ensure_ascii=False).encode())
    if size > settings.JOB_PARAMS_MAX_BYTES:
        raise ParamsTooLarge(f"`params` is {size} bytes; the limit is {settings.JOB_PARAMS_MAX_BYTES}.")
    try:
        model = spec.params.model_validate(params)
    except ValidationError as error:
        fields: dict[str, list[str]] = {}
        for problem in error.errors(include_url=False, include_input=False):
            key = ".".join(str(part) for part in problem["loc"]) or "params"
            fields.setdefault(key, []).append(problem["msg"])
        raise InvalidParams("The params do not fit the task's schema.", fields=fields) from None
    return model.model_dump(mode="json")


def _publish_after_commit(job: Job, type: JobEventType) -> None:
    event = job_event_build(job=job, type=type)
    transaction.on_commit(lambda: jobs_mark_unpublished(events=job_events_publish(events=[event])))


def jobs_mark_unpublished(*, events: Sequence[JobEvent]) -> None:
    """Notes the jobs of events SNS did not take, for the ``republish`` sweep. Only the worker can
    keep a message to publish again; the API's and the sweeps' events have this instead."""
    if not events:
        return
    try:
        Job.objects.filter(pk__in={event.job_id for event in events}).update(event_unpublished_at=timezone.now())
    except (OperationalError, InterfaceError) as error:
        logger.error("job events not published and not noted for the republish sweep: %s", error)


def job_submit(*, owner: AbstractBaseUser, task_name: str, params: Any, correlation_id: str = "") -> Job:
    clean_params = _validated_params(task_name, params)
    spec = task_get(task_name)
    assert spec is not None  # checked by _validated_params
    with transaction.atomic():
        job = Job.objects.create(
            owner_id=owner.pk,  # any AUTH_USER_MODEL (the stubs type `owner` as the test settings' User)
            task=task_name,
            params=clean_params,
            max_attempts=spec.max_attempts,
            seq=1,
            correlation_id=correlation_id or uuid.uuid4().hex,
        )
        transaction.on_commit(lambda: job_enqueue(job=job))
        _publish_after_commit(job, "job.queued")
    return job


def job_enqueue(*, job: Job) -> bool:
    """Sends the job message. On failure the job stays queued with no ``enqueued_at``: the sweep
    sends it again, so a failed send delays the job but never loses it."""
    message = JobMessage(job_id=job.id, task=job.task, attempt=job.attempts, correlation_id=job.correlation_id)
    try:
        job_message_send(message=message)
    except QueueUnavailable:
        logger.exception("job %s stays queued until the sweep re-sends it", job.id)
        return False
    now = timezone.now()
    try:
        Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(enqueued_at=now)
    except (OperationalError, InterfaceError) as error:
        # The job is committed and its message sent: only the note that it was sent is missing,
        # so the sweep may send it once more (a duplicate the worker ignores). Never a 500 for a
        # job that exists (a database restart can cut the connection right here).
        logger.warning("job %s sent, but enqueued_at not written: %s", job.id, error)
        return True
    job.enqueued_at = now
    return True


def job_cancel(*, job: Job) -> Job:
    """Queued jobs never start; running ones stop at their next ``ctx.cancelled()`` check."""
    with transaction.atomic():
        changed = Job.objects.filter(pk=job.pk, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).update(
            status=JobStatus.CANCELLED,
            finished_at=timezone.now(),
            lease_until=None,
            note="cancelled",
            seq=F("seq") + 1,
            updated_at=timezone.now(),
        )
        job.refresh_from_db()
        if not changed:
            raise JobConflict(
                f"The job is {job.status}; only queued or running jobs can be cancelled.", code="job_not_cancellable"
            )
        _publish_after_commit(job, "job.cancelled")
    return job


def job_retry(*, job: Job) -> Job:
    """Runs a failed or cancelled job again with a fresh allowance of attempts.

    ``attempts`` keeps counting (it is never reset), so a worker still finishing an older attempt
    can never complete the new one: its conditional update names its own attempt number.
    """
    spec = task_get(job.task)
    if spec is None:
        raise UnknownTask(f"The task {job.task!r} no longer exists.")
    with transaction.atomic():
        changed = Job.objects.filter(pk=job.pk, status__in=[JobStatus.FAILED, JobStatus.CANCELLED]).update(
            status=JobStatus.QUEUED,
            max_attempts=F("attempts") + spec.max_attempts,
            progress=0,
            note="",
            result=None,
            error_code="",
            error_message="",
            started_at=None,
            finished_at=None,
            lease_until=None,
            enqueued_at=None,
            seq=F("seq") + 1,
            updated_at=timezone.now(),
        )
        job.refresh_from_db()
        if not changed:
            raise JobConflict(
                f"The job is {job.status}; only failed or cancelled jobs can be retried.", code="job_not_retryable"
            )
        transaction.on_commit(lambda: job_enqueue(job=job))
        _publish_after_commit(job, "job.queued")
    return job


# --- The worker's writes -----------------------------------------------------------------------
#
# Each is one compare-and-swap UPDATE on ``seq``: it names the ``seq`` the caller read (and, once a
# worker holds the job, its own attempt number), sets ``seq + 1`` and publishes exactly one event.
# Every writer bumps ``seq``, so a lost race shows up as "0 rows" and nobody overwrites a state it
# did not see. Running in autocommit, each UPDATE is one round trip and commits on its own.

_TRANSITION_TRIES = 3  # a seq CAS can only lose to another state change; three losses in a row = give up


def _job_transition(
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
    for _ in range(_TRANSITION_TRIES if reread else 1):
        now = timezone.now()
        values = {field: _at_write(value, now) for field, value in changes.items()}
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
    for _ in range(_TRANSITION_TRIES):
        if job is None:
            raise PoisonMessage("unknown_job", f"no job {job_id}")
        if job.task != task_name:
            raise PoisonMessage("task_mismatch", f"the message names {task_name!r}, job {job_id} runs {job.task!r}")
        now = now or timezone.now()
        if job.is_terminal:
            return Claim("terminal", job)
        if job.status == JobStatus.RUNNING and job.lease_until is not None and job.lease_until > now:
            return Claim("leased", job)
        if job.status == JobStatus.RUNNING and job.attempts >= job.max_attempts:
            # The last attempt's worker died (its lease expired): nothing is left to retry.
            job_fail(job=job, attempt=job.attempts, code="worker_lost", message=_WORKER_LOST, sink=sink)
            return Claim("exhausted", job)
        attempts = job.attempts + 1
        changed = _job_transition(
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


_WORKER_LOST = "The worker running this job stopped before it finished, and no attempts are left."


def job_progress_record(*, job: Job, attempt: int, percent: int, note: str, sink: EventSink) -> bool:
    """False when the job is no longer this attempt's (cancelled, or taken over after a lost lease)."""
    return _job_transition(
        job=job,
        event="job.progress",
        sink=sink,
        statuses=[JobStatus.RUNNING],
        attempt=attempt,
        changes={"progress": percent, "note": note},
    )


def job_fail(*, job: Job, attempt: int, code: str, message: str, sink: EventSink) -> bool:
    t = transition_failed(job=job, attempt=attempt, code=code, message=message)
    return _job_transition(
        job=job, event=t.event, sink=sink, statuses=[JobStatus.RUNNING], attempt=attempt, changes=t.changes
    )


# --- Batches: one statement for a whole SQS batch ----------------------------------------------
#
# Each statement that commits costs a WAL flush; per job, claim and finish were two of them. The
# worker claims a batch's jobs in one ``UPDATE ... RETURNING`` and writes their final transitions
# in another. Both keep the rules of the one-job writes above: the claim re-checks the state in its
# WHERE clause, a final transition names each job's ``seq`` and attempt, and each row changed gives
# exactly one event, added once the statement has committed.


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


def _db(name: str, value: Any) -> Any:
    """``value`` for column ``name`` as the database driver takes it (a UUID is text on SQLite...)."""
    field = Job._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_db_prep_save(value, connection)


def _update_returning(sql: str, params: list[Any]) -> list[Job]:
    """Runs an ``UPDATE ... RETURNING`` of every column (PostgreSQL; SQLite ≥ 3.35) and gives the
    changed rows as they are now. Plain SQL rather than the ORM: building these statements through
    the ORM's expressions cost more CPU than the database took to run them; and the rows become
    instances directly (the converters each column needs, as a queryset would apply them, are
    worked out once per database, not per statement as ``Model.objects.raw`` does). In autocommit
    the rows are committed when this returns."""
    columns, converters = _row_reading()
    with _statement_cursor() as cursor:
        cursor.execute(f"UPDATE {Job._meta.db_table} {sql} RETURNING {columns}", params)
        rows = cursor.fetchall()
    jobs = []
    for row in rows:
        values = list(row)
        for position, field_converters, expression in converters:
            for converter in field_converters:
                values[position] = converter(values[position], expression, connection)
        jobs.append(Job.from_db(connection.alias, _JOB_FIELD_NAMES, values))
    return jobs


_JOB_FIELD_NAMES = [field.attname for field in Job._meta.concrete_fields]
_ROW_READING: dict[str, tuple[str, list[tuple[int, list[Any], Any]]]] = {}


def _row_reading() -> tuple[str, list[tuple[int, list[Any], Any]]]:
    """The RETURNING list of every column, and the converters of the columns that need one (a
    JSON column's text, SQLite's dates...), for the current database."""
    key = connection.vendor
    if key not in _ROW_READING:
        converters = []
        for position, field in enumerate(Job._meta.concrete_fields):
            column = field.get_col(Job._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((position, found, column))
        names = ", ".join(connection.ops.quote_name(field.column) for field in Job._meta.concrete_fields)
        _ROW_READING[key] = (names, converters)
    return _ROW_READING[key]


def _statement_cursor() -> Any:
    """On PostgreSQL, a cursor that binds parameters server-side (see ``server_bound_cursor``)."""
    return getattr(connection, "server_bound_cursor", connection.cursor)()


def _update_returning_ids(sql: str, params: list[Any]) -> list[uuid.UUID]:
    """Runs an ``UPDATE ... RETURNING id`` and gives the ids of the changed rows: for a writer that
    knows what the rows hold now (building model instances from ``RETURNING *`` cost more CPU than
    the statement took)."""
    pk = Job._meta.pk
    assert pk is not None
    with _statement_cursor() as cursor:
        cursor.execute(f"UPDATE {Job._meta.db_table} {sql} RETURNING id", params)
        return [pk.to_python(row[0]) for row in cursor.fetchall()]


# NOT_BY_STATUS: the worker's statements name their rows by primary key, and test the status with
# ``(...) IS TRUE``, which no index can answer, so PostgreSQL reads them by key. Given a plain
# ``status = ...`` it may pick the sweeps' index of that status instead (its statistics can say few
# jobs are queued or running when a backlog arrived since the last ANALYZE), and that index holds an
# entry for every job queued or run since the last vacuum: the cost of a claim or an end then grows
# with the backlog instead of staying ~10 key lookups.


def _add_after_commit(sink: EventSink, events: list[JobEvent]) -> None:
    """In autocommit (the worker) the statement has committed and this adds at once; inside a
    transaction, the events wait for its commit."""
    transaction.on_commit(lambda: sink.add_all(events))


def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def jobs_claim(
    *, wanted: dict[uuid.UUID, tuple[str, int]], sink: EventSink, now: dt.datetime | None = None
) -> dict[uuid.UUID, Job]:
    """Claims, in one statement, every job of ``wanted`` (job id → task name, lease seconds) that
    can be claimed now: queued, or running with an expired lease and attempts left, and running the
    task named. Returns the claimed rows by id; ``job_claim`` decides about the others (terminal,
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
        named.append(f"(id IN ({_placeholders(len(ids))}) AND task = %s)")
        named_params += [*(_db("id", job_id) for job_id in ids), task_name]
        lease.append("WHEN %s THEN %s")
        lease_params += [task_name, _db("lease_until", now + dt.timedelta(seconds=seconds))]
    at = _db("updated_at", now)
    claimed = _update_returning(
        "SET status = %s, attempts = attempts + 1, lease_until = CASE task "
        + " ".join(lease)
        + " END, started_at = %s, progress = 0, note = '', error_code = '', error_message = '',"
        " seq = seq + 1, updated_at = %s"
        f" WHERE ({' OR '.join(named)})"
        # IS TRUE: see NOT_BY_STATUS.
        " AND ((status = %s OR (status = %s AND (lease_until IS NULL OR lease_until <= %s)"
        " AND attempts < max_attempts)) IS TRUE)",
        [
            JobStatus.RUNNING.value,
            *lease_params,
            at,
            at,
            *named_params,
            JobStatus.QUEUED.value,
            JobStatus.RUNNING.value,
            at,
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
    moved is retried on its own by ``_job_transition``, which re-reads it.

    ``asynchronous`` (PostgreSQL; call it in autocommit): the statement turns ``synchronous_commit``
    off for its own transaction, so its commit does not wait for the WAL flush (see
    ``executions_write``). One statement instead of ``BEGIN``, ``SET LOCAL``, the UPDATE and
    ``COMMIT``: three round trips fewer per write.
    """
    if not transitions:
        return set()
    now = timezone.now()
    assignments = ["seq = seq + 1", "updated_at = %s"]
    params: list[Any] = [_db("updated_at", now)]
    for name in sorted({name for t in transitions for name in t.changes}):
        values = [_at_write(t.changes.get(name, _KEEP), now) for t in transitions]
        if all(v is not _KEEP and v == values[0] for v in values):  # the usual batch: one value for all
            assignments.append(f"{name} = %s")
            params.append(_db(name, values[0]))
            continue
        cases = [(t.job.pk, v) for t, v in zip(transitions, values, strict=True) if v is not _KEEP]
        assignments.append(f"{name} = CASE id {' '.join(['WHEN %s THEN %s'] * len(cases))} ELSE {name} END")
        for job_id, value in cases:
            params += [_db("id", job_id), _db(name, value)]
    match = " OR ".join(["(id = %s AND seq = %s AND attempts = %s)"] * len(transitions))
    ids = [_db("id", t.job.pk) for t in transitions]
    params += ids
    for t, job_id in zip(transitions, ids, strict=True):
        params += [job_id, t.job.seq, t.attempt]
    where = f"id IN ({_placeholders(len(ids))}) AND ({match}) AND (status = %s) IS TRUE"  # NOT_BY_STATUS
    if asynchronous and connection.vendor == "postgresql":
        # An uncorrelated subquery: PostgreSQL runs it once, before any row, and SET LOCAL's effect
        # lasts until this statement's transaction commits.
        where += " AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'"
    done = set(_update_returning_ids(f"SET {', '.join(assignments)} WHERE {where}", [*params, JobStatus.RUNNING.value]))
    written = [t for t in transitions if t.job.pk in done]
    for t in written:
        # The row matched this seq, so it has seq + 1 now, and exactly the values written.
        for name, value in t.changes.items():
            setattr(t.job, name, _at_write(value, now))
        t.job.seq += 1
        t.job.updated_at = now
    _add_after_commit(sink, [job_event_build(job=t.job, type=t.event) for t in written])
    for t in transitions:
        if t.job.pk not in done and _job_transition(
            job=t.job, event=t.event, sink=sink, statuses=[JobStatus.RUNNING], attempt=t.attempt, changes=t.changes
        ):
            done.add(t.job.pk)
    return done


_KEEP = object()  # a transition that leaves a column as it is
AT_WRITE = object()  # a column set to the time of the write (finished_at: when the row says so)


def _at_write(value: Any, now: dt.datetime) -> Any:
    return now if value is AT_WRITE else value


def wal_flush(*, job_id: uuid.UUID) -> None:
    """A synchronous commit that writes WAL, so PostgreSQL flushes the WAL up to it: every earlier
    asynchronous commit becomes durable with it. A transaction that changes no row writes no WAL and
    waits for no flush, hence a real write, though one nobody can see: ``seq = seq`` on a row the
    caller wrote (a new row version; no ``seq`` bump, no event). Call it in autocommit."""
    Job.objects.filter(pk=job_id).update(seq=F("seq"))


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
            if job_fail(job=job, attempt=attempt, code="worker_lost", message=_WORKER_LOST, sink=sink)
            else "skipped"
        )
    requeued = _job_transition(
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


def jobs_purge_finished(*, before: dt.datetime, limit: int) -> int:
    """Deletes up to ``limit`` jobs that finished before ``before``; returns how many."""
    ids = list(
        Job.objects.filter(
            status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED], finished_at__lt=before
        )
        .order_by("finished_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    deleted, _ = Job.objects.filter(pk__in=ids).delete()
    return deleted
