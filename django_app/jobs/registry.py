"""The task registry: ``@task(...)`` turns a function into a job type the API and worker know.

A task receives its validated params (a pydantic model) and a ``TaskContext``; it returns a
JSON-serialisable result or raises. ``TaskError`` carries a code users may see; any other
exception is reported as ``task_failed`` with its traceback kept in the logs only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from django_app.jobs.errors import JobError
from django_app.jobs.queue import task_timeout_check
from django_app.jobs.retry_policy import retry_options_validate


class TaskContext(Protocol):
    def progress(self, percent: int, note: str = "") -> None: ...

    def cancelled(self) -> bool: ...

    def remaining_seconds(self) -> float: ...


class TaskError(Exception):
    """A failure the task explains to its user: ``code`` is stable, ``message`` is readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TaskCancelled(Exception):
    """Raised inside a task that saw ``ctx.cancelled()``; the job ends cancelled."""


TaskFunction = Callable[[Any, TaskContext], Any]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    function: TaskFunction
    params: type[BaseModel]
    timeout: int
    max_attempts: int
    description: str
    # Safe to run twice (a no-op, an overwrite, an upsert keyed by the job): its end may wait to be
    # written with the batch's other ends, so a worker killed mid-batch may run it again.
    idempotent: bool = False
    # The queue its jobs go to unless the submitter names another (settings.JOBS_QUEUES).
    queue_name: str = "default"
    # Set for a task declared with django-tasks' ``@task`` (its ``django_tasks.Task``): the job's params
    # are its ``{"args", "kwargs"}`` and a failure names the exception's class (django_task_bridge).
    django_task: Any = None
    # Retry back-off (retry_policy.py): the first delay, its growth factor per attempt (1: constant)
    # and its cap, in seconds. None: the worker's WORKER_RETRY_BASE_SECONDS, 2, WORKER_RETRY_MAX_SECONDS.
    retry_delay: float | None = None
    retry_backoff: float | None = None
    retry_max_delay: float | None = None


_registry: dict[str, TaskSpec] = {}


def task_options_check(*, name: str, timeout: int, max_attempts: int, queue_name: str) -> None:
    """Raises ``ValueError`` for options no worker could honour (django_app.jobs.queue explains why)."""
    if not 1 <= timeout <= 840:
        raise ValueError("a task's timeout must fit in the worker's 900 s Lambda limit with a margin")
    if not 1 <= max_attempts <= 10:
        raise ValueError("max_attempts must be between 1 and 10")
    try:
        task_timeout_check(task_name=name, timeout=timeout, queue_name=queue_name)
    except JobError as error:
        raise ValueError(error.message) from None


def task(
    *,
    name: str,
    params: type[BaseModel],
    timeout: int = 60,
    max_attempts: int = 3,
    idempotent: bool = False,
    queue_name: str = "default",
    retry_delay: float | None = None,
    retry_backoff: float | None = None,
    retry_max_delay: float | None = None,
) -> Callable[[TaskFunction], TaskFunction]:
    task_options_check(name=name, timeout=timeout, max_attempts=max_attempts, queue_name=queue_name)
    retry_options_validate(retry_delay=retry_delay, retry_backoff=retry_backoff, retry_max_delay=retry_max_delay)

    def register(function: TaskFunction) -> TaskFunction:
        if name in _registry:
            raise ValueError(f"task {name!r} is registered twice")
        _registry[name] = TaskSpec(
            name=name,
            function=function,
            params=params,
            timeout=timeout,
            max_attempts=max_attempts,
            description=(function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else "",
            idempotent=idempotent,
            queue_name=queue_name,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            retry_max_delay=retry_max_delay,
        )
        return function

    return register


def task_spec_register(spec: TaskSpec) -> None:
    """Registers a spec built elsewhere (a django-tasks task, see django_task_bridge). The same
    django-tasks task seen again (``.using()`` makes copies of it) keeps its first spec."""
    known = _registry.get(spec.name)
    if known is None:
        _registry[spec.name] = spec
    elif known.django_task is None or known.django_task.func is not spec.django_task.func:
        raise ValueError(f"task {spec.name!r} is registered twice")


# Each installed app's ``tasks`` module registers its tasks when imported, found the way the admin
# finds ``admin.py`` (autodiscover_modules), plus the modules settings.JOBS_EXTRA_TASK_MODULES names.
# Imported on first look-up, not at django.setup(): a cold start that serves no job request never
# pays for building the tasks' pydantic models.
TASK_MODULE_NAME = "tasks"
_loaded = False


def _load_task_modules() -> None:
    global _loaded
    if not _loaded:
        from django.conf import settings
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules(TASK_MODULE_NAME)
        for module in getattr(settings, "JOBS_EXTRA_TASK_MODULES", ()):
            importlib.import_module(module)
        _loaded = True


def task_get(name: str) -> TaskSpec | None:
    _load_task_modules()
    spec = _registry.get(name)
    if spec is None and "." in name:
        # A django-tasks task is named by its module path and registers itself when its module is
        # imported (SqsLambdaBackend.validate_task); a worker that has not imported it yet does now.
        from django_app.jobs.django_task_bridge import django_task_import

        django_task_import(name)
        spec = _registry.get(name)
    return spec


def task_all() -> list[TaskSpec]:
    _load_task_modules()
    return sorted(_registry.values(), key=lambda spec: spec.name)
