"""A django-tasks backend (Django's Tasks API, DEP 14) that runs tasks as our jobs on the SQS workers.

``settings.TASKS = {"default": {"BACKEND": "django_app.jobs.tasks_backend.SqsLambdaBackend",
"QUEUES": ["default", "long"]}}``: ``my_task.enqueue(...)`` creates a job row (``job_submit``) and,
once the transaction commits, sends its message to the job's queue. The job is the result:
``get_result(result.id)`` reads the row. See docs/tasks.md.

django-tasks has no user: a job enqueued here is owned by the system user (the owner of scheduled
jobs) unless the caller names one with ``enqueue_as(user)``, so that user can follow it live.
"""

from __future__ import annotations

import contextvars
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django_tasks import TaskResult, TaskResultStatus
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task
from django_tasks.base import TaskError as DjangoTaskError
from django_tasks.exceptions import InvalidTaskError, TaskResultDoesNotExist
from typing_extensions import ParamSpec

from django_app.jobs.django_task_bridge import django_task_spec, failure_exception_path
from django_app.jobs.errors import InvalidParams
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.registry import task_get, task_spec_register

T = TypeVar("T")
P = ParamSpec("P")

_enqueue_owner: contextvars.ContextVar[AbstractBaseUser | None] = contextvars.ContextVar(
    "tasks_backend_enqueue_owner", default=None
)


@contextmanager
def enqueue_as(user: AbstractBaseUser) -> Iterator[None]:
    """Jobs enqueued inside the block are owned by ``user`` (their events reach ``user:<pk>``)."""
    token = _enqueue_owner.set(user)
    try:
        yield
    finally:
        _enqueue_owner.reset(token)


def _owner() -> AbstractBaseUser:
    user = _enqueue_owner.get()
    if user is not None:
        return user
    from django_app.jobs.periodic import system_user_get  # periodic imports services, as we do

    return system_user_get()


class ArgumentsNotJson(InvalidParams, TypeError):
    """Args or kwargs that would not come back the same from JSON (django-tasks requires JSON)."""


def _json_arguments(args: Any, kwargs: Any) -> dict[str, Any]:
    arguments = {"args": list(args), "kwargs": dict(kwargs)}
    try:
        encoded = json.dumps(arguments, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ArgumentsNotJson(f"The task's arguments are not JSON: {error}.") from None
    if json.loads(encoded) != arguments:
        # A tuple becomes a list, an int key becomes a string: the task would get other values.
        raise ArgumentsNotJson("The task's arguments would not come back the same from JSON (tuples, non-str keys).")
    return arguments


# Our statuses in django-tasks' words. django-tasks 0.12 has no "cancelled": a cancelled job did not
# run to its end, which is what FAILED says (its error names TaskCancelled).
_STATUS = {
    JobStatus.QUEUED: TaskResultStatus.READY,
    JobStatus.RUNNING: TaskResultStatus.RUNNING,
    JobStatus.SUCCEEDED: TaskResultStatus.SUCCESSFUL,
    JobStatus.FAILED: TaskResultStatus.FAILED,
    JobStatus.CANCELLED: TaskResultStatus.FAILED,
}
# The exception class a coded failure is told as (django-tasks' TaskError needs an importable one).
_CODED_FAILURE_CLASS = "django_app.jobs.registry.TaskError"
_CANCELLED_CLASS = "django_app.jobs.registry.TaskCancelled"


def _errors_of(job: Job) -> list[DjangoTaskError]:
    if job.status == JobStatus.CANCELLED:
        return [DjangoTaskError(exception_class_path=_CANCELLED_CLASS, traceback=f"cancelled: {job.note}")]
    if job.status != JobStatus.FAILED:
        return []
    # No traceback crosses from the worker: its logs keep it. This is the job's code and message.
    path = failure_exception_path(job.error_message) if job.error_code == "task_failed" else None
    return [
        DjangoTaskError(
            exception_class_path=path or _CODED_FAILURE_CLASS, traceback=f"{job.error_code}: {job.error_message}"
        )
    ]


def task_result_of_job(*, job: Job, task: Task[Any, Any]) -> TaskResult[Any]:
    """The job row as django-tasks' ``TaskResult``. ``enqueued_at`` is when ``.enqueue()`` took it
    (the row's ``created_at``; the row's own ``enqueued_at`` is the last SQS send, null while held);
    ``started_at`` and ``last_attempted_at`` are the last attempt's start; one worker id per attempt."""
    params = job.params if isinstance(job.params, dict) else {}
    result: TaskResult[Any] = TaskResult(
        task=task,
        id=str(job.pk),
        status=_STATUS[JobStatus(job.status)],
        enqueued_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        last_attempted_at=job.started_at,
        args=list(params.get("args", [])),
        kwargs=dict(params.get("kwargs", {})),
        backend=task.backend,
        errors=_errors_of(job),
        worker_ids=[f"{job.queue_name}-attempt-{number}" for number in range(1, job.attempts + 1)],
    )
    if job.status == JobStatus.SUCCEEDED:
        object.__setattr__(result, "_return_value", job.result)  # TaskResult is frozen; as django-tasks does
    return result


class SqsLambdaBackend(BaseTaskBackend):
    supports_defer = True
    # The worker calls every task through Task.call, which runs a coroutine to completion with
    # async_to_sync: an async task is a sync one that awaits inside.
    supports_async_task = True
    supports_get_result = True
    # Stored and honoured within a worker's batch and the sweep's releases: SQS standard queues have
    # no priority (docs/tasks.md).
    supports_priority = True

    def validate_task(self, task: Task[Any, Any]) -> None:
        """Runs when a task is declared (and for each ``.using()`` copy): besides django-tasks' own
        checks, the queue must be one of JOBS_QUEUES and the task's timeout must fit its worker.
        A valid task is registered, so the worker and the API know it by its module path."""
        super().validate_task(task)
        try:
            spec = django_task_spec(task)
        except ValueError as error:
            raise InvalidTaskError(str(error)) from None
        task_spec_register(spec)

    def enqueue(self, task: Task[P, T], args: P.args, kwargs: P.kwargs) -> TaskResult[T]:  # type: ignore[valid-type]
        from django_app.jobs.services import job_submit  # services → registry → bridge; not at import

        self.validate_task(task)
        arguments = _json_arguments(args, kwargs)
        job = job_submit(
            owner=_owner(),
            task_name=task.module_path,
            params=arguments,
            queue_name=task.queue_name,
            priority=task.priority,
            run_after=task.run_after,
        )
        return task_result_of_job(job=job, task=task)

    def get_result(self, result_id: str) -> TaskResult[Any]:
        try:
            job = Job.objects.get(pk=uuid.UUID(str(result_id)))
        except (ValueError, Job.DoesNotExist):
            raise TaskResultDoesNotExist(result_id) from None
        spec = task_get(job.task)
        if spec is None or spec.django_task is None:
            # A job of one of our own @task tasks has no django-tasks Task to describe it.
            raise TaskResultDoesNotExist(f"{result_id} is not a django-tasks task's job")
        return task_result_of_job(job=job, task=spec.django_task)
