"""The API's writes to jobs: submit, enqueue, cancel, retry. The API, the admin, periodic tasks
and the sweeps call these; the worker's writes are in ``state_machine`` (one row) and
``batch_sql`` (a batch).

Every change clients can see bumps ``seq`` in the same UPDATE, and state changes are conditional on
the state the caller saw, so two actors racing (a cancel and a worker, two deliveries) cannot both
win.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from pydantic import ValidationError

from contracts.job_event import JobEvent, JobEventType
from contracts.job_message import JobMessage
from django_app.jobs.errors import (
    InvalidParams,
    InvalidSchedule,
    JobConflict,
    ParamsTooLarge,
    QueueUnavailable,
    UnknownTask,
)
from django_app.jobs.events import job_event_build, job_events_publish
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.queue import job_message_send, send_delay_seconds, task_timeout_check
from django_app.jobs.quota import quota_check
from django_app.jobs.registry import task_get

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


# django-tasks' range (TASK_MIN_PRIORITY..TASK_MAX_PRIORITY); the column is a SmallIntegerField.
PRIORITY_MIN, PRIORITY_MAX = -100, 100


def _checked_schedule(priority: Any, run_after: Any) -> None:
    if isinstance(priority, bool) or not isinstance(priority, int) or not PRIORITY_MIN <= priority <= PRIORITY_MAX:
        raise InvalidSchedule(
            f"`priority` must be a whole number from {PRIORITY_MIN} to {PRIORITY_MAX}.",
            fields={"priority": [f"Expected an integer in {PRIORITY_MIN}..{PRIORITY_MAX}."]},
        )
    if run_after is not None and (not isinstance(run_after, dt.datetime) or timezone.is_naive(run_after)):
        raise InvalidSchedule(
            "`run_after` must be a date and time with its time zone.",
            fields={"run_after": ["Expected an aware datetime."]},
        )


def job_submit(
    *,
    owner: AbstractBaseUser,
    task_name: str,
    params: Any,
    correlation_id: str = "",
    queue_name: str | None = None,
    priority: int = 0,
    run_after: dt.datetime | None = None,
) -> Job:
    """Creates the job and, once committed, sends its message: at once, or with a delay when
    ``run_after`` is less than 15 minutes ahead; a job due later is held until the ``unsent`` sweep
    sends it. ``queue_name`` defaults to the task's own queue."""
    clean_params = _validated_params(task_name, params)
    quota_check(owner=owner)
    spec = task_get(task_name)
    assert spec is not None  # checked by _validated_params
    queue_name = queue_name or spec.queue_name
    task_timeout_check(task_name=task_name, timeout=spec.timeout, queue_name=queue_name)
    _checked_schedule(priority, run_after)
    with transaction.atomic():
        job = Job.objects.create(
            owner_id=owner.pk,  # any AUTH_USER_MODEL (the stubs type `owner` as the test settings' User)
            task=task_name,
            params=clean_params,
            queue_name=queue_name,
            priority=priority,
            run_after=run_after,
            max_attempts=spec.max_attempts,
            seq=1,
            correlation_id=correlation_id or uuid.uuid4().hex,
        )
        transaction.on_commit(lambda: job_enqueue(job=job))
        _publish_after_commit(job, "job.queued")
    return job


def job_enqueue(*, job: Job, now: dt.datetime | None = None) -> bool:
    """Sends the job message to the job's queue, delayed until ``run_after`` if that is less than
    SQS's 15 minutes ahead. A job due later is held (not sent, no ``enqueued_at``; True): the
    ``unsent`` sweep sends it when it is due within the window. On a failed send (False) the job
    stays queued with no ``enqueued_at``: the sweep sends it again, so a failed send delays the job
    but never loses it."""
    now = now or timezone.now()
    delay = send_delay_seconds(run_after=job.run_after, now=now)
    if delay is None:
        logger.info("job %s held until the sweep sends it (due %s)", job.id, job.run_after)
        return True
    message = JobMessage(job_id=job.id, task=job.task, attempt=job.attempts, correlation_id=job.correlation_id)
    try:
        job_message_send(message=message, queue_name=job.queue_name, delay_seconds=delay)
    except QueueUnavailable:
        logger.exception("job %s stays queued until the sweep re-sends it", job.id)
        return False
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
