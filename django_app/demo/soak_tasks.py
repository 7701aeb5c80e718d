"""The soak's task (tests/soak, docs/reliability.md), registered only where JOBS_EXTRA_TASK_MODULES
names this module: the soak passes it to its local stack with ``--env``; no deployed stage does.

``soak.step`` appends ``start <ref> <pid>`` to SOAK_RECEIPTS_PATH, sleeps, then appends
``done <ref>``. The ``done`` lines are the side-effect counter the soak reads to prove that each
task body ran to completion exactly once; the ``start`` lines tell it which worker process to
SIGKILL while a task runs. Appends of one short line with O_APPEND are atomic, so processes never
interleave within a line.
"""

from __future__ import annotations

import os
import time

from django.core.exceptions import ImproperlyConfigured
from pydantic import BaseModel, ConfigDict, Field

from django_app.jobs.registry import TaskContext, task

RECEIPTS_PATH = os.environ.get("SOAK_RECEIPTS_PATH", "")
if not RECEIPTS_PATH:
    raise ImproperlyConfigured("django_app.demo.soak_tasks needs SOAK_RECEIPTS_PATH (a file the soak reads)")


class StepParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    sleep_ms: int = Field(default=20, ge=0, le=4000)


def _append(line: str) -> None:
    descriptor = os.open(RECEIPTS_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, f"{line}\n".encode())
    finally:
        os.close(descriptor)


@task(name="soak.step", params=StepParams, timeout=5, max_attempts=5)
def step(params: StepParams, ctx: TaskContext) -> dict[str, str]:
    """Soak step: sleeps, then writes its receipt."""
    _append(f"start {params.ref} {os.getpid()}")
    time.sleep(params.sleep_ms / 1000)
    _append(f"done {params.ref}")
    return {"ref": params.ref}
