"""The host's own task, registered with our ``@task`` and found by autodiscovery (an app's tasks.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from django_app.jobs.registry import TaskContext, task


class GreetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)


@task(name="reports.greet", params=GreetParams, timeout=10, max_attempts=2)
def greet(params: GreetParams, ctx: TaskContext) -> dict[str, Any]:
    """Greets someone by name."""
    ctx.progress(50, "composing")
    return {"greeting": f"Hello, {params.name}!"}
