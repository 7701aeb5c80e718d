"""Runs one attempt of a job: claim, the task with its context, then exactly one final transition.
The worker claims a batch's jobs together and writes their final transitions together.

Shared by the worker Lambda and anything else that executes jobs (a local runner, a management
command), so every path applies the same rules:

- ``TaskError``: the task explained a failure of its input (a missing column...). Running it again
  gives the same answer, so the job fails at once with the task's code and message.
- Any other exception: retried with exponential backoff while attempts remain, then failed as
  ``task_failed`` with a generic message. The traceback goes to the logs only.
- ``TaskCancelled``: the job ends cancelled (usually ``job_cancel`` already ended it).
- A result that is not JSON, or larger than ``JOB_RESULT_MAX_BYTES``, fails the job clearly.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from pydantic import ValidationError

from contracts import backoff
from django_app.jobs.batch_sql import jobs_transition
from django_app.jobs.conf import WorkerConf
from django_app.jobs.django_task_bridge import failure_message
from django_app.jobs.models import Job
from django_app.jobs.outbox import EventSink
from django_app.jobs.registry import TaskCancelled, TaskError, TaskSpec
from django_app.jobs.retry_policy import MAX_RETRY_DELAY_SECONDS, retry_policy_of
from django_app.jobs.transitions import (
    transition_cancelled,
    transition_failed,
    transition_retry_later,
    transition_succeeded,
)
from django_app.jobs.worker_context import WorkerTaskContext
from django_app.jobs.worker_types import Execution

logger = logging.getLogger(__name__)

# SQS refuses a visibility timeout above 12 hours.
MAX_VISIBILITY_SECONDS = MAX_RETRY_DELAY_SECONDS


def retry_delay(
    *, attempt: int, base: float, cap: float, factor: float = 2, rand: Callable[[], float] = random.random
) -> int:
    """Seconds before attempt ``attempt + 1``: base * factor^(attempt-1), capped, then jittered into
    [d/2, d] so jobs that failed together (a dependency's outage) do not all come back at the same
    second. Factor 1 is a constant delay (still jittered)."""
    delay = backoff.equal_jitter(
        base=base, exponent=attempt - 1, cap=min(cap, MAX_VISIBILITY_SECONDS), factor=factor, rand=rand
    )
    return max(1, math.ceil(delay)) if delay > 0 else 0


def _result_checked(result: Any) -> tuple[Any, str | None, str]:
    """The result as stored (JSON types only), or an error code and message."""
    try:
        encoded = json.dumps(result, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        return None, "result_not_json", f"The task returned a result that is not JSON: {error}."
    size = len(encoded.encode())
    if size > settings.JOB_RESULT_MAX_BYTES:
        return (
            None,
            "result_too_large",
            f"The task's result is {size} bytes; the limit is {settings.JOB_RESULT_MAX_BYTES} bytes.",
        )
    return json.loads(encoded), None, ""


def _is_database_down(error: BaseException) -> bool:
    return isinstance(error, OperationalError | InterfaceError)


def job_run(
    *, job: Job, spec: TaskSpec, sink: EventSink, conf: WorkerConf, lambda_remaining: Callable[[], float] | None = None
) -> Execution:
    """Runs the task of a job this attempt has claimed and decides how the attempt ends, without
    writing it: ``executions_write`` does, for one job or for a batch's together. Lets database
    connectivity errors propagate."""
    attempt = job.attempts
    ctx = WorkerTaskContext(
        job=job,
        attempt=attempt,
        sink=sink,
        interval=conf.progress_interval_seconds,
        lambda_remaining=lambda_remaining,
    )
    try:
        params = spec.params.model_validate(job.params)
    except ValidationError:
        # The task's schema changed since the job was submitted: no retry can fix that.
        logger.exception("job %s: stored params no longer fit task %s", job.pk, spec.name)
        text = "The job's params no longer fit the task's schema."
        return Execution(
            "failed", job, transition=transition_failed(job=job, attempt=attempt, code="invalid_params", message=text)
        )

    try:
        result = spec.function(params, ctx)
    except TaskCancelled:
        logger.info("job %s cancelled during attempt %d", job.pk, attempt)
        return Execution("cancelled", job, transition=transition_cancelled(job=job, attempt=attempt))
    except TaskError as error:
        logger.info("job %s failed with %s: %s", job.pk, error.code, error.message)
        failed = transition_failed(job=job, attempt=attempt, code=error.code, message=error.message)
        return Execution("failed", job, transition=failed)
    except Exception as error:
        if _is_database_down(error):
            raise
        logger.exception("job %s: task %s raised on attempt %d of %d", job.pk, spec.name, attempt, job.max_attempts)
        code = "task_failed"
        text = f"The task failed unexpectedly; the worker logs have the details (job {job.pk})."
        if spec.django_task is not None:
            text = failure_message(error=error, job_id=job.pk)  # names the exception's class
        if attempt < job.max_attempts:
            policy = retry_policy_of(spec=spec, conf=conf)
            delay = retry_delay(attempt=attempt, base=policy.base_seconds, cap=policy.max_seconds, factor=policy.factor)
            retry = transition_retry_later(job=job, attempt=attempt, code=code, message=text, delay_seconds=delay)
            return Execution("retry", job, retry_after=delay, transition=retry)
        failed = transition_failed(job=job, attempt=attempt, code=code, message=text)
        return Execution("failed", job, transition=failed)

    stored, refusal, text = _result_checked(result)
    if refusal is not None:
        logger.warning("job %s: %s", job.pk, text)
        return Execution(
            "failed", job, transition=transition_failed(job=job, attempt=attempt, code=refusal, message=text)
        )
    return Execution("succeeded", job, transition=transition_succeeded(job=job, attempt=attempt, result=stored))


def executions_write(
    *, executions: Sequence[Execution], sink: EventSink, asynchronous: bool = False
) -> list[Execution]:
    """Writes the attempts' final transitions in one statement. An attempt whose job was cancelled
    meanwhile, or taken over after its lease expired, changes nothing and comes back as ``lost``.

    ``asynchronous`` (in autocommit): the statement may commit before its ends are durable; the
    caller asks ``durability`` when they are, and acknowledges no record before. Events are added
    once the statement has committed."""
    written = jobs_transition(
        transitions=[e.transition for e in executions if e.transition is not None],
        sink=sink,
        asynchronous=asynchronous,
    )
    results = []
    for execution in executions:
        if execution.transition is None:
            results.append(execution)
        elif execution.job.pk in written:
            results.append(Execution(execution.outcome, execution.job, execution.retry_after))
        else:
            # Cancelled meanwhile, or the lease expired and the sweep gave the job to another attempt.
            logger.warning(
                "job %s: attempt %d ended but no longer owns the job", execution.job.pk, execution.job.attempts
            )
            results.append(Execution("lost", execution.job))
    return results
