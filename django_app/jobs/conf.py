"""The worker's and the sweeps' knobs, read from Django settings with production defaults.

They are read on every use (not at import) so tests can override them with pytest-django's
``settings`` fixture. The lead may promote any of them to ``config/settings/base.py`` (env-driven);
until then the defaults below apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class WorkerConf:
    # Left unused at the end of an invocation: finishing a job's UPDATE and the last PublishBatch.
    time_margin_seconds: float
    # Exponential backoff of task retries: base * 2^(attempt-1), capped, with jitter in [1/2, 1].
    retry_base_seconds: float
    retry_max_seconds: float
    # Poison messages come back this soon (not after the queue's visibility timeout, 30 or 90 minutes),
    # so they reach the DLQ after maxReceiveCount receives within minutes.
    poison_visibility_seconds: int
    # Records failed because the database was unreachable come back after base * 2^(receive-1).
    db_down_base_seconds: float
    # Progress writes (one UPDATE + one event each) are throttled to one per this interval.
    progress_interval_seconds: float
    # Buffered job events are published (PublishBatch) at the latest this long after the first one.
    event_flush_seconds: float
    # A batch's final transitions are written together; one waits at most about this long (checked
    # before each task starts) unless the task that follows is the one that makes it wait.
    # 0 (the default) writes each job's end before the next task starts: a worker killed mid-batch
    # then never runs a finished task again (with a wait, the soak's SIGKILLs made workers re-run
    # finished tasks). Raise it only if every task is safe to run twice: it buys throughput.
    finish_flush_seconds: float
    # The same wait for the ends of tasks declared ``idempotent`` (``@task(idempotent=True)``).
    idempotent_flush_seconds: float


@dataclass(frozen=True)
class SweepConf:
    # A queued job whose message was handed to SQS (or became visible again) this long ago is re-sent.
    queued_stale_seconds: int
    # A queued job with no enqueued_at (its send failed or never ran) is re-sent after this grace.
    unsent_grace_seconds: int
    # A running job whose lease expired this long ago is retried or failed (the worker died).
    lease_grace_seconds: int
    # Finished jobs are deleted this many days after they finished.
    retention_days: int
    # At most this many jobs per sweep kind per run, so a sweep always ends well inside its timeout.
    batch_limit: int


def worker_conf() -> WorkerConf:
    return WorkerConf(
        time_margin_seconds=float(getattr(settings, "WORKER_TIME_MARGIN_SECONDS", 10)),
        retry_base_seconds=float(getattr(settings, "WORKER_RETRY_BASE_SECONDS", 10)),
        retry_max_seconds=float(getattr(settings, "WORKER_RETRY_MAX_SECONDS", 900)),
        poison_visibility_seconds=int(getattr(settings, "WORKER_POISON_VISIBILITY_SECONDS", 60)),
        db_down_base_seconds=float(getattr(settings, "WORKER_DB_DOWN_BASE_SECONDS", 30)),
        progress_interval_seconds=float(getattr(settings, "WORKER_PROGRESS_INTERVAL_SECONDS", 0.25)),
        event_flush_seconds=float(getattr(settings, "WORKER_EVENT_FLUSH_SECONDS", 0.25)),
        finish_flush_seconds=float(getattr(settings, "WORKER_FINISH_FLUSH_SECONDS", 0)),
        idempotent_flush_seconds=float(getattr(settings, "WORKER_IDEMPOTENT_FLUSH_SECONDS", 0.25)),
    )


def sweep_conf() -> SweepConf:
    return SweepConf(
        queued_stale_seconds=int(getattr(settings, "JOBS_QUEUED_STALE_SECONDS", 20 * 60)),
        unsent_grace_seconds=int(getattr(settings, "JOBS_UNSENT_GRACE_SECONDS", 60)),
        lease_grace_seconds=int(getattr(settings, "JOBS_LEASE_GRACE_SECONDS", 30)),
        retention_days=int(getattr(settings, "JOBS_RETENTION_DAYS", 30)),
        batch_limit=int(getattr(settings, "JOBS_SWEEP_BATCH_LIMIT", 500)),
    )


def system_username() -> str:
    """The user that owns jobs started by schedules (periodic tasks)."""
    return str(getattr(settings, "JOBS_SYSTEM_USERNAME", "system"))


@dataclass(frozen=True)
class JobQueue:
    """One SQS queue jobs are sent to, and the timeout of the worker function it triggers."""

    name: str
    url: str
    # The Lambda timeout of the worker consuming this queue: a task must finish inside it, with
    # WORKER_TIME_MARGIN_SECONDS to spare, or it could never run there.
    function_timeout: int


DEFAULT_QUEUE_NAME = "default"
# Lambda's own ceiling: a host project that names only JOBS_QUEUE_URL gets it for its one queue.
LAMBDA_MAX_TIMEOUT_SECONDS = 900


def job_queues() -> dict[str, JobQueue]:
    """``settings.JOBS_QUEUES`` by name; without it, one ``default`` queue at ``JOBS_QUEUE_URL``."""
    configured = getattr(settings, "JOBS_QUEUES", None)
    if not configured:
        configured = {
            DEFAULT_QUEUE_NAME: {"url": settings.JOBS_QUEUE_URL, "function_timeout": LAMBDA_MAX_TIMEOUT_SECONDS}
        }
    return {
        name: JobQueue(name=name, url=str(queue.get("url") or ""), function_timeout=int(queue["function_timeout"]))
        for name, queue in configured.items()
    }
