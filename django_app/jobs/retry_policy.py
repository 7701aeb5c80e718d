"""How long a failed attempt waits before the next: a task's own retry options, or the worker's.

``@task(retry_delay=..., retry_backoff=..., retry_max_delay=...)`` sets them per task (Celery's
``default_retry_delay`` / ``retry_backoff`` / ``retry_backoff_max``); a task that sets none waits
``WORKER_RETRY_BASE_SECONDS * 2^(attempt-1)``, at most ``WORKER_RETRY_MAX_SECONDS``. Either way the
delay is jittered (``execution.retry_delay``) and becomes the message's visibility timeout, so no
delay may exceed what SQS accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_app.jobs.conf import WorkerConf
    from django_app.jobs.registry import TaskSpec

# SQS's largest visibility timeout (ChangeMessageVisibility refuses more than 12 hours).
MAX_RETRY_DELAY_SECONDS = 12 * 60 * 60
DEFAULT_BACKOFF_FACTOR = 2.0
# A larger factor reaches the cap by the second or third attempt anyway; above it is a typo.
MAX_BACKOFF_FACTOR = 10.0


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    factor: float  # 1: the same delay every time
    max_seconds: float


def retry_options_validate(
    *, retry_delay: float | None, retry_backoff: float | None, retry_max_delay: float | None
) -> None:
    """Raises ``ValueError`` (at ``@task`` time, so a bad option never reaches a worker) for a
    negative delay, a delay or cap beyond SQS's 12 hours, a factor outside 1-10, or a first delay
    above the cap."""
    for name, value in (("retry_delay", retry_delay), ("retry_max_delay", retry_max_delay)):
        if value is not None and not 0 <= value <= MAX_RETRY_DELAY_SECONDS:
            raise ValueError(f"{name} must be from 0 to {MAX_RETRY_DELAY_SECONDS} s (SQS's longest visibility)")
    if retry_backoff is not None and not 1 <= retry_backoff <= MAX_BACKOFF_FACTOR:
        raise ValueError(f"retry_backoff must be from 1 (a constant delay) to {MAX_BACKOFF_FACTOR:g}")
    if retry_delay is not None and retry_max_delay is not None and retry_delay > retry_max_delay:
        raise ValueError("retry_delay must not exceed retry_max_delay")


def retry_policy_of(*, spec: TaskSpec, conf: WorkerConf) -> RetryPolicy:
    """The task's options where it set them, the worker's settings (read now) where it did not. A
    task that sets its own first delay but no cap is never cut below that delay by the worker's cap:
    ``retry_delay=3600`` alone means an hour, not ``WORKER_RETRY_MAX_SECONDS``."""
    base = spec.retry_delay if spec.retry_delay is not None else conf.retry_base_seconds
    cap = spec.retry_max_delay if spec.retry_max_delay is not None else max(conf.retry_max_seconds, base)
    factor = spec.retry_backoff if spec.retry_backoff is not None else DEFAULT_BACKOFF_FACTOR
    return RetryPolicy(base_seconds=base, factor=factor, max_seconds=cap)
