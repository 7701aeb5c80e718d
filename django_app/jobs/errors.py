"""Domain errors of the jobs service. Views turn them into 4xx answers; nothing here knows HTTP."""

from __future__ import annotations

from typing import Any


class JobError(Exception):
    code = "job_error"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class UnknownTask(JobError):
    code = "unknown_task"


class InvalidParams(JobError):
    code = "invalid_params"


class ParamsTooLarge(JobError):
    code = "params_too_large"


class JobConflict(JobError):
    """The job is not in a state that allows the action (cancel a finished job, retry a running one)."""

    code = "job_conflict"


class QueueUnavailable(JobError):
    """SQS did not take the message; the job stays queued and the sweep sends it again."""

    code = "queue_unavailable"


class UnknownQueue(JobError):
    """A queue name that settings.JOBS_QUEUES does not define."""

    code = "unknown_queue"


class TaskTooLongForQueue(JobError):
    """The task's timeout does not fit its queue's worker function: it could never run there."""

    code = "task_timeout_exceeds_queue"


class InvalidSchedule(JobError):
    """A priority or run_after the jobs service cannot take."""

    code = "invalid_schedule"


class QuotaExceeded(JobError):
    """The user already has as many unfinished jobs as ``JOBS_MAX_UNFINISHED_PER_USER`` allows."""

    code = "quota_exceeded"
