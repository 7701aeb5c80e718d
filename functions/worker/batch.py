"""One SQS batch: Powertools' ``BatchProcessor`` calls ``BatchRun.record_handle`` for each record.

A record handler returns to acknowledge its record and raises to report it in ``batchItemFailures``
(it then comes back: at once, after a backoff, or after the visibility timeout). Raising is how a
record says "not done", never how the batch fails: one bad record does not touch the others.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from django.db import InterfaceError, OperationalError, close_old_connections

from django_app.jobs.conf import WorkerConf, worker_conf
from django_app.jobs.execution import MAX_VISIBILITY_SECONDS, job_execute
from django_app.jobs.models import Job
from django_app.jobs.outbox import EventOutbox
from django_app.jobs.registry import task_get
from django_app.jobs.worker_types import PoisonMessage
from functions.worker.messages import job_message_parse
from functions.worker.visibility import VisibilityChange, messages_visibility_change

logger = logging.getLogger(__name__)


class RecordNotDone(Exception):
    """Base of the reasons a record is reported as a batch item failure."""


class RetryScheduled(RecordNotDone):
    """The task failed and will run again when the message shows again (after the backoff)."""


class NotEnoughTime(RecordNotDone):
    """Too little of this invocation is left for the record's task: it goes back for another one."""


class DatabaseUnavailable(RecordNotDone):
    """The database could not be reached: the record is not acknowledged, and comes back."""


class BatchRun:
    """State of one invocation: the Lambda context, buffered events and visibility changes."""

    def __init__(self, *, context: Any, conf: WorkerConf) -> None:
        self.context = context
        self.conf = conf
        self.outbox = EventOutbox(max_delay=conf.event_flush_seconds)
        self.visibility: list[VisibilityChange] = []
        # After one connectivity error the rest of the batch fails at once, instead of each record
        # waiting for its own connect timeout.
        self.database_down = False
        self.outcomes: dict[str, str] = {}
        # The batch's jobs, read in one query before the first record runs (see prefetch).
        self.prefetched: dict[uuid.UUID, Job] | None = None

    def prefetch(self, records: list[dict[str, Any]]) -> None:
        """Reads every job the batch names in one round trip instead of one per record.

        A row read here may be stale when its record's turn comes (a cancel, another delivery):
        the claim compares ``seq`` and re-reads on a mismatch, so staleness costs a query, never
        a wrong decision. Unparseable records are left to their own handling (poison).
        """
        ids = set()
        for record in records:
            try:
                ids.add(job_message_parse(body=record.get("body", "")).job_id)
            except PoisonMessage:
                continue
        try:
            close_old_connections()
            self.prefetched = {job.pk: job for job in Job.objects.filter(pk__in=ids)} if ids else {}
        except (OperationalError, InterfaceError):
            self.prefetched = {}  # each record meets the outage itself and reports it

    def remaining_seconds(self) -> float:
        getter = getattr(self.context, "get_remaining_time_in_millis", None)
        return getter() / 1000 if callable(getter) else math.inf

    def _come_back_in(self, record: SQSRecord, seconds: float) -> None:
        self.visibility.append(
            VisibilityChange(
                queue_arn=record.event_source_arn,
                message_id=record.message_id,
                receipt_handle=record.receipt_handle,
                seconds=int(min(max(0, seconds), MAX_VISIBILITY_SECONDS)),
            )
        )

    def _database_backoff(self, record: SQSRecord) -> float:
        receives = int(record.attributes.approximate_receive_count or 1)
        return min(self.conf.db_down_base_seconds * 2 ** max(0, receives - 1), 900)

    def record_handle(self, record: SQSRecord) -> str:
        message_id = record.message_id
        if self.database_down:
            self._come_back_in(record, self._database_backoff(record))
            raise DatabaseUnavailable("the database was unreachable earlier in this batch")
        try:
            message = job_message_parse(body=record.body)
            spec = task_get(message.task)
            if spec is None:
                raise PoisonMessage("unknown_task", f"no task named {message.task!r}")
            remaining = self.remaining_seconds()
            if remaining < spec.timeout + self.conf.time_margin_seconds:
                logger.info(
                    "message %s returned unprocessed: %.1f s left, task %s needs %d s + %.0f s margin",
                    message_id,
                    remaining,
                    spec.name,
                    spec.timeout,
                    self.conf.time_margin_seconds,
                )
                self._come_back_in(record, 0)
                raise NotEnoughTime(f"{remaining:.1f} s left, {spec.name} needs {spec.timeout} s")
            close_old_connections()
            execution = job_execute(
                message=message,
                spec=spec,
                sink=self.outbox,
                conf=self.conf,
                lambda_remaining=self.remaining_seconds,
                known_job=(self.prefetched or {}).pop(message.job_id, None),
            )
        except PoisonMessage as poison:
            logger.error(
                "poison message %s (%s): %s; receive %s, it moves to the DLQ after maxReceiveCount receives",
                message_id,
                poison.reason,
                poison.detail,
                record.attributes.approximate_receive_count,
            )
            self._come_back_in(record, self.conf.poison_visibility_seconds)
            raise
        except (OperationalError, InterfaceError) as error:
            self.database_down = True
            logger.error("message %s not processed: database unreachable (%s)", message_id, error)
            self._come_back_in(record, self._database_backoff(record))
            raise DatabaseUnavailable(str(error)) from error
        self.outcomes[message_id] = execution.outcome
        logger.info("message %s: job %s %s", message_id, execution.job.pk, execution.outcome)
        if execution.outcome == "retry":
            assert execution.retry_after is not None
            self._come_back_in(record, execution.retry_after)
            raise RetryScheduled(f"job {execution.job.pk} retries in {execution.retry_after} s")
        return execution.outcome

    def finish(self) -> None:
        """Publish the buffered events and apply the visibility changes, before the handler returns."""
        try:
            self.outbox.close()
        finally:
            if self.visibility:
                messages_visibility_change(changes=self.visibility)


def sqs_batch_handle(*, event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.monotonic()
    run = BatchRun(context=context, conf=worker_conf())
    # One processor per invocation: its state is per batch, and tests call the handler from threads.
    # raise_on_entire_batch_failure=False: a batch where every record failed must still report every
    # id (Powertools would otherwise raise, and Lambda would retry the whole batch, acknowledged or not).
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    run.prefetch(list(event.get("Records") or []))
    try:
        response: dict[str, Any] = dict(
            process_partial_response(event=event, record_handler=run.record_handle, processor=processor)
        )
    finally:
        run.finish()
    logger.info(
        "batch of %d record(s): %d not done, %.0f ms",
        len(event.get("Records") or []),
        len(response.get("batchItemFailures") or []),
        (time.monotonic() - started) * 1000,
    )
    return response
