"""Tasks declared with Django's Tasks API (django-tasks) for the backend tests: module-level, as
django-tasks requires, and registered with our worker when declared (SqsLambdaBackend.validate_task)."""

from __future__ import annotations

import asyncio
from typing import Any

from django_tasks import task

from django_app.jobs.django_task_bridge import JobTaskContext, job_options


@task()
def add(a: int, b: int) -> int:
    """Adds two numbers."""
    return a + b


@task()
def explode(reason: str) -> None:
    raise ValueError(f"secret internal detail: {reason}")


@task(takes_context=True)
@job_options(timeout=30, max_attempts=2)
def tell_context(context: JobTaskContext, label: str) -> dict[str, Any]:
    context.progress(50, "half way")
    return {"attempt": context.attempt, "id": context.task_result.id, "label": label}


@task()
@job_options(max_attempts=4, retry_delay=5, retry_backoff=3, retry_max_delay=100)
def flaky_with_backoff() -> None:
    raise ConnectionError("the remote side is down")


@task(queue_name="long")
@job_options(timeout=600)
def long_haul() -> str:
    return "done"


@job_options(timeout=600)
def too_long_for_the_default_queue() -> None:
    """Not declared here: the tests declare it and expect a refusal."""


@task()
async def add_later(a: int, b: int) -> int:
    """A coroutine: the worker runs it to completion through Task.call (async_to_sync)."""
    await asyncio.sleep(0)
    return a + b
