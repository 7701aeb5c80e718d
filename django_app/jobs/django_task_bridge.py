"""django-tasks' tasks on our worker: the registry entry a ``django_tasks.Task`` becomes, the options
Django's ``@task`` has no words for (``@job_options``), its context, and how its failures are told.

A django-tasks task is known by its module path (``Task.module_path``, e.g. ``reports.tasks.add``);
its job's params are ``{"args": [...], "kwargs": {...}}``; the worker calls it through ``Task.call``
(with a ``JobTaskContext`` first when it ``takes_context``). See docs/tasks.md.
"""

from __future__ import annotations

import importlib
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.conf import settings
from django_tasks import TaskContext as DjangoTaskContext
from django_tasks.utils import get_module_path
from pydantic import BaseModel, ConfigDict, Field

from django_app.jobs.registry import TaskContext, TaskSpec, task_options_check
from django_app.jobs.retry_policy import retry_options_validate

if TYPE_CHECKING:
    from django_tasks.base import Task

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class DjangoTaskParams(BaseModel):
    """The params of a django-tasks task's job: what ``.enqueue(*args, **kwargs)`` was given."""

    model_config = ConfigDict(extra="forbid")

    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class JobOptions:
    timeout: int = 60
    # Django's Tasks API runs a task once; a task declared there may not be safe to run twice, so
    # retries are opt-in (our own ``@task`` defaults to 3).
    max_attempts: int = 1
    idempotent: bool = False
    # Retry back-off, as our @task's options (retry_policy.py); None: the worker's settings.
    retry_delay: float | None = None
    retry_backoff: float | None = None
    retry_max_delay: float | None = None


_OPTIONS_ATTRIBUTE = "_polyglot_job_options"


def job_options(
    *,
    timeout: int = 60,
    max_attempts: int = 1,
    idempotent: bool = False,
    retry_delay: float | None = None,
    retry_backoff: float | None = None,
    retry_max_delay: float | None = None,
) -> Callable[[F], F]:
    """Our worker's options for a function declared with django-tasks' ``@task``, applied under it
    (the decorator nearest the function), so they are known when ``@task`` validates it::

        @task(queue_name="long")
        @job_options(timeout=600, max_attempts=3)
        def rebuild_index(...): ...

    The timeout is checked against the queue's worker when ``@task`` declares the task."""
    retry_options_validate(retry_delay=retry_delay, retry_backoff=retry_backoff, retry_max_delay=retry_max_delay)
    options = JobOptions(
        timeout=timeout,
        max_attempts=max_attempts,
        idempotent=idempotent,
        retry_delay=retry_delay,
        retry_backoff=retry_backoff,
        retry_max_delay=retry_max_delay,
    )

    def mark(function: F) -> F:
        setattr(function, _OPTIONS_ATTRIBUTE, options)
        return function

    return mark


def job_options_of(function: Callable[..., Any]) -> JobOptions:
    options = getattr(function, _OPTIONS_ATTRIBUTE, None)
    return options if isinstance(options, JobOptions) else JobOptions()


@dataclass(frozen=True, kw_only=True)
class JobTaskContext(DjangoTaskContext):
    """django-tasks' ``TaskContext`` (``task_result``, ``attempt``) plus our worker's extras."""

    job_context: TaskContext

    def progress(self, percent: int, note: str = "") -> None:
        self.job_context.progress(percent, note)

    def cancelled(self) -> bool:
        return self.job_context.cancelled()

    def remaining_seconds(self) -> float:
        return self.job_context.remaining_seconds()


JOB_TASK_NAME_MAX_CHARS = 100  # Job.task's max_length


def django_task_spec(task: Task[Any, Any]) -> TaskSpec:
    """The registry entry of a django-tasks task. Raises ``ValueError`` for options no worker can honour."""
    name = task.module_path
    if len(name) > JOB_TASK_NAME_MAX_CHARS:
        raise ValueError(f"the task's module path {name!r} is longer than {JOB_TASK_NAME_MAX_CHARS} characters")
    options = job_options_of(task.func)
    task_options_check(
        name=name, timeout=options.timeout, max_attempts=options.max_attempts, queue_name=task.queue_name
    )

    def run(params: DjangoTaskParams, ctx: TaskContext) -> Any:
        if not task.takes_context:
            return task.call(*params.args, **params.kwargs)
        from django_app.jobs.tasks_backend import task_result_of_job  # the backend imports this module

        job = ctx.job  # type: ignore[attr-defined]  # the worker's context (WorkerTaskContext) holds its job
        context = JobTaskContext(task_result=task_result_of_job(job=job, task=task), job_context=ctx)
        return task.call(context, *params.args, **params.kwargs)

    doc = (task.func.__doc__ or "").strip()
    return TaskSpec(
        name=name,
        function=run,
        params=DjangoTaskParams,
        timeout=options.timeout,
        max_attempts=options.max_attempts,
        description=doc.splitlines()[0] if doc else "",
        idempotent=options.idempotent,
        queue_name=task.queue_name,
        django_task=task,
        retry_delay=options.retry_delay,
        retry_backoff=options.retry_backoff,
        retry_max_delay=options.retry_max_delay,
    )


def django_task_import(name: str) -> None:
    """Imports the module of ``name`` (a module path), so that the django-tasks tasks it declares
    register themselves, but only under an installed app or a ``JOBS_EXTRA_TASK_MODULES`` module:
    names come from API requests and queue messages, and importing a module runs its code."""
    module_name = name.rpartition(".")[0]
    roots = [config.name for config in apps.get_app_configs()] + list(getattr(settings, "JOBS_EXTRA_TASK_MODULES", ()))
    if not any(module_name == root or module_name.startswith(f"{root}.") for root in roots):
        return
    try:
        importlib.import_module(module_name)
    except ImportError:
        return  # no such module: an unknown task
    except Exception:
        logger.exception("importing %s for task %s failed", module_name, name)


# A django-tasks task's failure is stored as code ``task_failed`` with this message, the one place
# that writes and reads it: ``get_result`` gives the exception's class back as django-tasks'
# ``TaskError.exception_class_path``. The traceback stays in the worker's logs.
_FAILURE_PATTERN = re.compile(r"^The task raised ([A-Za-z_][\w.]*);")


def failure_message(*, error: BaseException, job_id: uuid.UUID) -> str:
    return f"The task raised {get_module_path(type(error))}; the worker logs have the details (job {job_id})."


def failure_exception_path(message: str) -> str | None:
    match = _FAILURE_PATTERN.match(message)
    return match.group(1) if match else None
