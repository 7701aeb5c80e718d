"""The host's own tasks: one registered with our ``@task`` and found by autodiscovery (an app's
tasks.py), and some declared with django-tasks' ``@task`` (settings.TASKS names our backend)."""

from __future__ import annotations

from typing import Any

from django_tasks import TaskContext as DjangoTaskContext
from django_tasks import task as django_task
from pydantic import BaseModel, ConfigDict, Field

from django_app.jobs.django_task_bridge import job_options
from django_app.jobs.registry import TaskContext, task


class GreetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)


@task(name="reports.greet", params=GreetParams, timeout=10, max_attempts=2)
def greet(params: GreetParams, ctx: TaskContext) -> dict[str, Any]:
    """Greets someone by name."""
    ctx.progress(50, "composing")
    return {"greeting": f"Hello, {params.name}!"}


# The same app's tasks written with Django's Tasks API (django-tasks): known to our worker by their
# module path, e.g. "tests.host_project.reports.tasks.word_total".


@django_task()
def word_total(text: str, *, extra: int = 0) -> int:
    """Counts the words of a text."""
    return len(text.split()) + extra


@django_task()
def refuse(reason: str) -> None:
    raise LookupError(reason)


@django_task(takes_context=True)
def where_am_i(context: DjangoTaskContext) -> dict[str, Any]:
    return {"id": context.task_result.id, "attempt": context.attempt}


@django_task(queue_name="long")
@job_options(timeout=600, max_attempts=2)
def yearly_report(year: int) -> str:
    """A long report: its 600 s fit only the long queue's worker."""
    return f"report {year}"
