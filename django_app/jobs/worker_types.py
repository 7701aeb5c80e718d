"""Outcomes and errors of the worker's writes: plain types, no Django queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django_app.jobs.models import Job
from django_app.jobs.transitions import JobTransition

ClaimOutcome = Literal["claimed", "terminal", "leased", "exhausted", "contended", "not_due"]
ExecutionOutcome = Literal["succeeded", "failed", "cancelled", "retry", "skipped", "lost"]


class PoisonMessage(Exception):
    """A message that can never be processed, whatever the number of tries: it must reach the DLQ.

    ``reason`` is a stable code for logs and alarms (``not_json``, ``wrong_version``, ``invalid_message``,
    ``unknown_task``, ``unknown_job``, ``task_mismatch``).
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class Claim:
    outcome: ClaimOutcome
    job: Job


@dataclass(frozen=True)
class Execution:
    outcome: ExecutionOutcome
    job: Job
    # Seconds until the message should be visible again (only for ``retry``).
    retry_after: int | None = None
    # How the attempt ends, until it is written (``executions_write``); None once settled.
    transition: JobTransition | None = None
