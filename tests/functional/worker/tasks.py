"""Tasks registered for the worker tests only. Imported by conftest (and by the killable subprocess).

Side effects go to files the tests read, so "ran once" is counted outside the worker's own records.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from django_app.jobs.registry import TaskCancelled, TaskContext, TaskError, task, task_get

# Per-iteration hooks a test may set for ``wt_steps`` (e.g. cancel the job at step 2).
HOOKS: dict[str, Callable[[int], None]] = {}


class SideEffectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    started_path: str = ""
    sleep_seconds: float = Field(default=0, ge=0, le=20)
    # Sleep only on the first start (the one a test kills), so the retry finishes quickly.
    sleep_first_start_only: bool = False


class StepsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    steps: int = Field(default=5, ge=1, le=50)
    sleep_seconds: float = Field(default=0, ge=0, le=2)


class LabelParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    label: str


class EmptyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(default=0, ge=0, le=2_000_000)


def _append(path: str, line: str) -> None:
    with Path(path).open("a") as handle:
        handle.write(line + "\n")


def count_lines(path: Path, line: str) -> int:
    return path.read_text().splitlines().count(line) if path.exists() else 0


def _register() -> None:
    if task_get("wt_side_effect") is not None:
        return

    @task(name="wt_side_effect", params=SideEffectParams, timeout=2, max_attempts=3)
    def wt_side_effect(params: SideEffectParams, ctx: TaskContext) -> dict[str, Any]:
        """Marks its start, sleeps, then appends 'ran' once it completes."""
        first_start = not params.started_path or count_lines(Path(params.started_path), "started") == 0
        if params.started_path:
            _append(params.started_path, "started")
        sleep = params.sleep_seconds if first_start or not params.sleep_first_start_only else 0
        deadline = time.monotonic() + sleep
        while time.monotonic() < deadline:  # bounded by sleep_seconds (≤ 20 s)
            time.sleep(0.02)
        _append(params.path, "ran")
        return {"ran": True}

    @task(name="wt_steps", params=StepsParams, timeout=30, max_attempts=1)
    def wt_steps(params: StepsParams, ctx: TaskContext) -> dict[str, Any]:
        """Reports progress at every step and stops when cancelled."""
        for step in range(params.steps):
            if step in range(1, params.steps) and "wt_steps" in HOOKS:
                HOOKS["wt_steps"](step)
            if ctx.cancelled():
                raise TaskCancelled()
            _append(params.path, f"step {step}")
            ctx.progress(step * 100 // params.steps, f"step {step}")
            time.sleep(params.sleep_seconds)
        return {"steps": params.steps}

    @task(name="wt_idempotent", params=SideEffectParams, timeout=30, max_attempts=3, idempotent=True)
    def wt_idempotent(params: SideEffectParams, ctx: TaskContext) -> dict[str, Any]:
        """Appends 'ran', declared safe to run twice: its end may wait for the batch's others."""
        _append(params.path, "ran")
        return {"ran": True}

    @task(name="wt_crash", params=EmptyParams, timeout=5, max_attempts=3)
    def wt_crash(params: EmptyParams, ctx: TaskContext) -> None:
        """Always raises an unexpected error."""
        raise RuntimeError("secret internal detail that users must not see")

    @task(name="wt_crash_constant", params=EmptyParams, timeout=5, max_attempts=3, retry_delay=7, retry_backoff=1)
    def wt_crash_constant(params: EmptyParams, ctx: TaskContext) -> None:
        """Always raises; retried after its own constant 7 s, not the worker's back-off."""
        raise RuntimeError("fails every time")

    @task(name="wt_refuse", params=EmptyParams, timeout=5, max_attempts=3)
    def wt_refuse(params: EmptyParams, ctx: TaskContext) -> None:
        """Always refuses its input with a TaskError."""
        raise TaskError("bad_input", "The input is not acceptable.")

    @task(name="wt_label", params=LabelParams, timeout=5, max_attempts=1)
    def wt_label(params: LabelParams, ctx: TaskContext) -> str:
        """Appends its label: the file tells the order tasks ran in."""
        _append(params.path, params.label)
        return params.label

    @task(name="wt_long", params=EmptyParams, timeout=600, max_attempts=1, queue_name="long")
    def wt_long(params: EmptyParams, ctx: TaskContext) -> str:
        """Declared for the long queue: its timeout does not fit the default queue's worker."""
        return "long"

    @task(name="wt_big", params=EmptyParams, timeout=5, max_attempts=3)
    def wt_big(params: EmptyParams, ctx: TaskContext) -> dict[str, Any]:
        """Returns a result of about ``size`` bytes."""
        return {"blob": "x" * params.size}


_register()
