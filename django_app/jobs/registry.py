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
    # Retry back-off (retry_policy.py): the first delay, its growth factor per attempt (1: constant)
    # and its cap, in seconds. None: the worker's WORKER_RETRY_BASE_SECONDS, 2, WORKER_RETRY_MAX_SECONDS.
    retry_delay: float | None = None
    retry_backoff: float | None = None
    retry_max_delay: float | None = None


_registry: dict[str, TaskSpec] = {}


def task(
    *,
    name: str,
    params: type[BaseModel],
    timeout: int = 60,
    max_attempts: int = 3,
    idempotent: bool = False,
    retry_delay: float | None = None,
    retry_backoff: float | None = None,
    retry_max_delay: float | None = None,
) -> Callable[[TaskFunction], TaskFunction]:
    if not 1 <= timeout <= 840:
        raise ValueError("a task's timeout must fit in the worker's 900 s Lambda limit with a margin")
    if not 1 <= max_attempts <= 10:
        raise ValueError("max_attempts must be between 1 and 10")
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
            retry_delay=retry_delay,
            retry_backoff=retry_backoff,
            retry_max_delay=retry_max_delay,
        )
        return function

    return register


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
    return _registry.get(name)


def task_all() -> list[TaskSpec]:
    _load_task_modules()
    return sorted(_registry.values(), key=lambda spec: spec.name)
