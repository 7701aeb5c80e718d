"""One SQS batch: Powertools' ``BatchProcessor`` calls ``BatchRun.record_handle`` for each record.

A record handler returns to acknowledge its record and raises to report it in ``batchItemFailures``
(it then comes back: at once, after a backoff, or after the visibility timeout). Raising is how a
record says "not done", never how the batch fails: one bad record does not touch the others.

One ``UPDATE ... RETURNING`` claims the batch's jobs that are due (``run_after`` past) before the first
record; the records then run in descending job priority (SQS itself has no priority). Each attempt's final
transition is written before the next task starts (so a worker killed mid-batch never runs a
finished task again). The ends of tasks declared idempotent (``@task(idempotent=True)``: safe to run
twice) wait to be written together, up to ``WORKER_IDEMPOTENT_FLUSH_SECONDS``; so do every task's
with ``WORKER_FINISH_FLUSH_SECONDS`` > 0. A record whose transition is not written (the database went
away) is reported as not done even though its handler returned.

A record is acknowledged only once its job's end is durable, which ``django_app.jobs.durability``
decides: the batch's last write makes every end durable before the handler returns, and so before
Lambda deletes any acknowledged message (see ``write_pending``).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import uuid
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone

from contracts import backoff
from contracts.job_event import TERMINAL_STATUSES
from django_app.jobs.batch_sql import jobs_claim
from django_app.jobs.conf import WorkerConf, worker_conf
from django_app.jobs.durability import UnflushedEnds, ends_write_asynchronously
from django_app.jobs.events import job_state_event_build
from django_app.jobs.execution import MAX_VISIBILITY_SECONDS, executions_write, job_run
from django_app.jobs.models import Job
from django_app.jobs.outbox import EventOutbox
from django_app.jobs.registry import TaskSpec, task_get
from django_app.jobs.state_machine import job_claim, job_lease_renew
from django_app.jobs.transitions import transition_released
from django_app.jobs.worker_types import Execution, PoisonMessage
from functions.worker.messages import job_message_parse
from functions.worker.visibility import VisibilityChange, messages_visibility_change

logger = logging.getLogger(__name__)

# A lease that lost less than this to the batch's earlier tasks is not renewed: renewing is a write,
# and a second is well inside the lease sweep's grace.
LEASE_SLACK = dt.timedelta(seconds=1)


class RecordNotDone(Exception):
    """Base of the reasons a record is reported as a batch item failure."""


class RetryScheduled(RecordNotDone):
    """The task failed and will run again when the message shows again (after the backoff)."""


class NotEnoughTime(RecordNotDone):
    """Too little of this invocation is left for the record's task: it goes back for another one."""


class NotDueYet(RecordNotDone):
    """The job's ``run_after`` is ahead (a re-sent message came early): hidden until then, no attempt spent."""


class DatabaseUnavailable(RecordNotDone):
    """The database could not be reached: the record is not acknowledged, and comes back."""


class BatchRun:
    """State of one invocation: the Lambda context, claimed jobs, unwritten transitions, buffered
    events and visibility changes."""

    def __init__(self, *, context: Any, conf: WorkerConf) -> None:
        self.context = context
        self.conf = conf
        self.outbox = EventOutbox(max_delay=conf.event_flush_seconds)
        self.visibility: list[VisibilityChange] = []
        # After one connectivity error the rest of the batch fails at once, instead of each record
        # waiting for its own connect timeout.
        self.database_down = False
        # Claimed with the batch (see claim) and not yet taken by their record.
        self.claimed: dict[uuid.UUID, Job] = {}
        # Jobs a record of this batch has taken: another record naming one is a duplicate.
        self.taken: set[uuid.UUID] = set()
        # Attempts that ended (or were given back) whose transition is not written yet, with their
        # record and whether that record was acknowledged; since when the oldest has waited.
        self.pending: list[tuple[SQSRecord, Execution, bool]] = []
        self.pending_since = 0.0
        # Acknowledged records whose transition could not be written: reported as not done.
        self.unwritten: list[str] = []
        # Ends written but not yet durable (see durability), with their record and whether it was
        # acknowledged: the batch's last write makes them durable.
        self.unflushed: UnflushedEnds[tuple[SQSRecord, bool]] = UnflushedEnds()
        # The batch's records by the job they name, and those kept because SNS did not take their
        # job's terminal event: their redelivery publishes it again.
        self.records_by_job: dict[uuid.UUID, list[dict[str, Any]]] = {}
        self.unpublished: list[str] = []

    def claim(self, records: list[dict[str, Any]]) -> None:
        """Claims, in one statement, every job the batch names that it can run now.

        A job that cannot be claimed so (terminal, under a live lease, out of attempts, unknown, or
        named with another task) is decided by its record alone, as before; a record whose task does
        not fit the time left is not claimed (it goes back at its turn). If the process dies mid-batch,
        the jobs claimed but not started keep their lease and their messages, which were not deleted,
        come back: the job is claimed again once the lease has expired (or the lease sweep re-sends it).
        """
        wanted: dict[uuid.UUID, tuple[str, int]] = {}
        remaining = self.remaining_seconds()
        for record in records:
            try:
                message = job_message_parse(body=record.get("body", ""))
            except PoisonMessage:
                continue
            self.records_by_job.setdefault(message.job_id, []).append(record)
            spec = task_get(message.task)
            if spec is not None and remaining >= spec.timeout + self.conf.time_margin_seconds:
                wanted.setdefault(message.job_id, (spec.name, spec.timeout))
        if not wanted:
            return
        try:
            close_old_connections()
            self.claimed = jobs_claim(wanted=wanted, sink=self.outbox)
        except (OperationalError, InterfaceError) as error:
            logger.error("batch not claimed: database unreachable (%s)", error)
            self.database_lost()

    def by_priority(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records in the order their tasks run: higher claimed ``priority`` first, the batch's own
        order otherwise (a stable sort; records of unclaimed jobs count as priority 0). SQS standard
        queues have no priority, so this is the only place a job's priority orders work in the worker."""

        def priority(record: dict[str, Any]) -> int:
            try:
                job_id = job_message_parse(body=record.get("body", "")).job_id
            except PoisonMessage:
                return 0
            job = self.claimed.get(job_id)
            return job.priority if job is not None else 0

        return sorted(records, key=lambda record: -priority(record))

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
        return backoff.exponential(base=self.conf.db_down_base_seconds, exponent=receives - 1, cap=900)

    def _take(self, spec: TaskSpec, job_id: uuid.UUID, record: SQSRecord) -> Job | None:
        """The job this record runs: claimed with the batch, or claimed now on its own; None when it
        must not run (the caller acknowledges). Raises ``PoisonMessage``, and ``NotDueYet`` for a job
        whose run_after is ahead (its message comes back then)."""
        job = self.claimed.get(job_id)
        if job is not None and job.task == spec.name:
            del self.claimed[job_id]
            return job
        claim = job_claim(job_id=job_id, task_name=spec.name, lease_seconds=spec.timeout, sink=self.outbox)
        if claim.outcome == "not_due":
            assert claim.job.run_after is not None
            wait = (claim.job.run_after - timezone.now()).total_seconds()
            self._come_back_in(record, math.ceil(wait))
            raise NotDueYet(f"job {job_id} is due at {claim.job.run_after.isoformat()}")
        if claim.outcome != "claimed":
            logger.info("job %s not run: %s (status %s)", job_id, claim.outcome, claim.job.status)
            if claim.outcome == "terminal" and claim.job.attempts > 0:
                # The message came back although a worker ended the job: that worker may have died
                # between writing the end and publishing it (its message was never deleted). The
                # terminal event again, same seq (clients drop repeats): never lost, only late.
                # (A job cancelled before any attempt had its event published by the API.)
                self.outbox.add(job_state_event_build(job=claim.job))
            return None
        return claim.job

    def _hold(self, job: Job, spec: TaskSpec) -> bool:
        """Before the task starts: its lease must cover the task's timeout from now, as if claimed
        now (a job claimed with its batch may start well after the claim). False: no longer ours."""
        if (
            job.lease_until is not None
            and job.lease_until >= timezone.now() + dt.timedelta(seconds=spec.timeout) - LEASE_SLACK
        ):
            return True
        return job_lease_renew(job=job, seconds=spec.timeout)

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
            if message.job_id in self.taken:
                # Two messages for one job in one batch (a re-send): the first one runs it.
                logger.info("message %s: job %s is taken by another record of this batch", message_id, message.job_id)
                return "skipped"
            claimed = self.claimed.get(message.job_id)
            remaining = self.remaining_seconds()
            # A lease that ran out before the job's turn may already be another worker's to take.
            expired = claimed is not None and claimed.lease_until is not None and claimed.lease_until <= timezone.now()
            if remaining < spec.timeout + self.conf.time_margin_seconds or expired:
                logger.info(
                    "message %s returned unprocessed: %.1f s left, task %s needs %d s + %.0f s margin%s",
                    message_id,
                    remaining,
                    spec.name,
                    spec.timeout,
                    self.conf.time_margin_seconds,
                    "; its lease ran out before its turn" if expired else "",
                )
                if claimed is not None and claimed.task == spec.name:
                    # Claimed with the batch but never started: given back with the batch's writes.
                    del self.claimed[message.job_id]
                    self.taken.add(message.job_id)
                    release = transition_released(job=claimed, attempt=claimed.attempts)
                    self._pend(record, Execution("skipped", claimed, transition=release), acknowledged=False)
                self._come_back_in(record, 0)
                raise NotEnoughTime(f"{remaining:.1f} s left, {spec.name} needs {spec.timeout} s")
            close_old_connections()
            job = self._take(spec, message.job_id, record)
            if job is None:
                return "skipped"
            self.taken.add(job.pk)
            self._write_if_due(spec)
            if not self._hold(job, spec):
                logger.info("message %s: job %s was cancelled or taken over before it started", message_id, job.pk)
                return "skipped"
            execution = job_run(
                job=job, spec=spec, sink=self.outbox, conf=self.conf, lambda_remaining=self.remaining_seconds
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
            self.database_lost()
            logger.error("message %s not processed: database unreachable (%s)", message_id, error)
            self._come_back_in(record, self._database_backoff(record))
            raise DatabaseUnavailable(str(error)) from error
        if execution.outcome == "retry":
            assert execution.retry_after is not None
            self._pend(record, execution, acknowledged=False)
            self._come_back_in(record, execution.retry_after)
            raise RetryScheduled(f"job {execution.job.pk} retries in {execution.retry_after} s")
        self._pend(record, execution, acknowledged=True)
        return execution.outcome

    def _pend(self, record: SQSRecord, execution: Execution, *, acknowledged: bool) -> None:
        if not self.pending:
            self.pending_since = time.monotonic()
        self.pending.append((record, execution, acknowledged))

    def _write_if_due(self, spec: TaskSpec) -> None:
        """Before a task starts: writes the waiting transitions if the oldest has waited long enough
        (for the least patient of them: no wait at all for a task not declared idempotent), or if the
        task could outlast a waiting job's lease (an ended attempt must never look like a lost worker
        to the lease sweep)."""
        if not self.pending:
            return
        interval = min(self._end_may_wait(execution) for _, execution, _ in self.pending)
        leases = [e.job.lease_until for _, e, _ in self.pending if e.job.lease_until is not None]
        task_end = timezone.now() + dt.timedelta(seconds=spec.timeout - interval)
        if time.monotonic() - self.pending_since >= interval or (leases and task_end > min(leases)):
            self.write_pending()

    def _end_may_wait(self, execution: Execution) -> float:
        """How long an ended attempt's transition may wait for others: a worker killed meanwhile runs
        its task again, which only a task declared idempotent accepts by default."""
        spec = task_get(execution.job.task)
        if spec is not None and spec.idempotent:
            return max(self.conf.finish_flush_seconds, self.conf.idempotent_flush_seconds)
        return self.conf.finish_flush_seconds

    def write_pending(self, *, final: bool = False) -> None:
        """Writes the waiting transitions in one statement; database errors propagate (the caller
        then calls ``database_lost``) after one more try on a fresh connection: the tasks behind
        these transitions already ran, and an unwritten end makes their messages run them again.
        A connection killed by a database restart fails the first try; the new connection waits
        for the server (DATABASE_CONNECT_RETRY_SECONDS).

        ``durability`` decides when the ends written are durable: a write before another task
        starts may not be yet (a worker killed after it loses nothing: the server has the commit);
        ``final`` (after the last record) makes every end written durable. Only then may the
        handler return and Lambda delete the acknowledged messages."""
        asynchronous = ends_write_asynchronously(final=final)
        executions = [e for _, e, _ in self.pending]
        if executions:
            try:
                close_old_connections()
                written = executions_write(executions=executions, sink=self.outbox, asynchronous=asynchronous)
            except (OperationalError, InterfaceError) as error:
                logger.warning("writing the batch's ends failed (%s); once more on a new connection", error)
                connection.close()
                written = executions_write(executions=executions, sink=self.outbox, asynchronous=asynchronous)
            wrote = []
            for (record, execution, acknowledged), result in zip(self.pending, written, strict=True):
                logger.info("message %s: job %s %s", record.message_id, result.job.pk, result.outcome)
                if execution.transition is not None and result.outcome != "lost":
                    wrote.append((result.job.pk, (record, acknowledged)))
            self.pending = []
            self.unflushed.written(wrote, asynchronous=asynchronous)
        if final and self.unflushed:
            close_old_connections()
            self.unflushed.flush()

    def database_lost(self) -> None:
        """The rest of the batch fails at once, and so does every acknowledged record whose
        transition was not written: its message comes back and runs the job again."""
        self.database_down = True
        # Ends written but not yet durable count as unwritten too: no record is acknowledged before
        # its end is durable (its message coming back finds the job ended and only publishes the
        # terminal event again).
        pending = [(record, acknowledged) for record, _, acknowledged in self.pending]
        for record, acknowledged in [*pending, *self.unflushed.lost()]:
            if acknowledged:
                self.unwritten.append(record.message_id)
                self._come_back_in(record, self._database_backoff(record))
        self.pending = []

    def finish(self) -> None:
        """Publish the buffered events and apply the visibility changes, before the handler returns."""
        try:
            self.outbox.close()
            self._keep_unpublished_ends()
        finally:
            if self.visibility:
                messages_visibility_change(changes=self.visibility)

    def _keep_unpublished_ends(self) -> None:
        """A job whose terminal event SNS did not take (after the publisher's retries) keeps its
        message: it comes back after the retry backoff, finds the job ended and publishes the event
        again. Clients already subscribed learn of the end only through that event."""
        for event in self.outbox.unpublished:
            if event.status not in TERMINAL_STATUSES:
                continue  # a lost progress or running event is superseded by the next one
            for raw in self.records_by_job.pop(event.job_id, []):
                record = SQSRecord(raw)
                logger.error("terminal event of job %s not published: message %s kept", event.job_id, record.message_id)
                self.unpublished.append(record.message_id)
                self._come_back_in(record, self.conf.retry_base_seconds)


def sqs_batch_handle(*, event: dict[str, Any], context: Any) -> dict[str, Any]:
    started = time.monotonic()
    run = BatchRun(context=context, conf=worker_conf())
    # One processor per invocation: its state is per batch, and tests call the handler from threads.
    # raise_on_entire_batch_failure=False: a batch where every record failed must still report every
    # id (Powertools would otherwise raise, and Lambda would retry the whole batch, acknowledged or not).
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        records = list(event.get("Records") or [])
        run.claim(records)
        ordered = {**event, "Records": run.by_priority(records)}
        response: dict[str, Any] = dict(
            process_partial_response(event=ordered, record_handler=run.record_handle, processor=processor)
        )
        try:
            # Synchronous: nothing is acknowledged (the response, then Lambda's deletes) before it.
            run.write_pending(final=True)
        except (OperationalError, InterfaceError) as error:
            logger.error("the batch's final transitions were not written: database unreachable (%s)", error)
            run.database_lost()
    finally:
        run.finish()
    failures = list(response.get("batchItemFailures") or [])
    reported = {failure["itemIdentifier"] for failure in failures}
    for message_id in dict.fromkeys([*run.unwritten, *run.unpublished]):
        if message_id not in reported:
            failures.append({"itemIdentifier": message_id})
    response["batchItemFailures"] = failures
    logger.info(
        "batch of %d record(s): %d not done, %.0f ms",
        len(event.get("Records") or []),
        len(failures),
        (time.monotonic() - started) * 1000,
    )
    return response
