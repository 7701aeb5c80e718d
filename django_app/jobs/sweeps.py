"""Sweeps, run by the worker on a schedule (``{"sweep": "all"}`` every minute in serverless.yml).

- ``unsent``: jobs still queued whose message was lost (the send failed, or the message went to the
  DLQ while the job waited) are sent again. The claim makes a duplicate message harmless. Jobs held
  for a ``run_after`` beyond SQS's 15-minute delay are sent once due within it.
- ``leases``: running jobs whose lease expired (the worker died or was killed) are retried while
  attempts remain, failed as ``worker_lost`` otherwise.
- ``purge``: finished jobs past the retention period are deleted, and rate-limit counters of past
  windows (up to ``ratelimits.COUNTERS_PURGED_PER_RUN``).
- ``republish``: jobs with an event SNS did not take (``event_unpublished_at``, set by the API and
  the sweeps) get an event of their current state, with their current ``seq``: clients that missed
  the lost one catch up, clients that already have that ``seq`` drop it.

Each sweep handles at most ``JOBS_SWEEP_BATCH_LIMIT`` jobs per run and the others still run when one
fails, so a backlog drains over a few runs and never makes a run overrun its timeout.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable

from django.db import InterfaceError, OperationalError
from django.db.models import F, Q
from django.utils import timezone

from django_app.accounts.ratelimits import rate_limit_counters_purge
from django_app.jobs.conf import SweepConf, sweep_conf
from django_app.jobs.events import job_events_publish, job_state_event_build
from django_app.jobs.models import Job, JobStatus
from django_app.jobs.outbox import EventOutbox, EventSink, event_fitted
from django_app.jobs.queue import SQS_MAX_DELAY_SECONDS
from django_app.jobs.registry import task_get
from django_app.jobs.services import job_enqueue, jobs_mark_unpublished, jobs_purge_finished
from django_app.jobs.state_machine import job_lease_expire

logger = logging.getLogger(__name__)

SWEEPS = ("unsent", "leases", "purge", "republish")


def jobs_sweep_unsent(*, conf: SweepConf, now: dt.datetime) -> dict[str, int]:
    stale = Q(enqueued_at__lt=now - dt.timedelta(seconds=conf.queued_stale_seconds))
    never_sent = Q(enqueued_at__isnull=True, updated_at__lt=now - dt.timedelta(seconds=conf.unsent_grace_seconds))
    # A held job (run_after beyond SQS's 15-minute delay) is released once it is due within it, sent
    # with the DelaySeconds left (job_enqueue); never before.
    due_within_delay = Q(run_after__isnull=True) | Q(run_after__lt=now + dt.timedelta(seconds=SQS_MAX_DELAY_SECONDS))
    # Higher priority first, then the earliest due: the only ordering SQS standard queues allow is
    # the order messages are sent in, and not even that is kept.
    jobs = Job.objects.filter(Q(status=JobStatus.QUEUED) & (stale | never_sent) & due_within_delay).order_by(
        "-priority", F("run_after").asc(nulls_first=True), "updated_at"
    )
    counts = {"resent": 0, "send_failed": 0, "unknown_task": 0}
    for job in jobs[: conf.batch_limit]:
        if task_get(job.task) is None:
            # This worker cannot run it (an older deploy, or a removed task): re-sending would only
            # feed the DLQ. It waits for a worker that knows the task, or for an operator.
            counts["unknown_task"] += 1
            continue
        counts["resent" if job_enqueue(job=job, now=now) else "send_failed"] += 1
    if counts["unknown_task"]:
        logger.warning("%d queued job(s) name a task this worker does not know", counts["unknown_task"])
    return counts


def jobs_sweep_leases(*, conf: SweepConf, now: dt.datetime, sink: EventSink) -> dict[str, int]:
    expired = Job.objects.filter(
        status=JobStatus.RUNNING, lease_until__lt=now - dt.timedelta(seconds=conf.lease_grace_seconds)
    ).order_by("lease_until")
    counts = {"requeued": 0, "failed": 0, "skipped": 0}
    for job in expired[: conf.batch_limit]:
        outcome = job_lease_expire(job=job, sink=sink)
        counts[outcome] += 1
        logger.warning("job %s: lease expired during attempt %d; %s", job.pk, job.attempts, outcome)
    return counts


def jobs_sweep_republish(*, conf: SweepConf) -> dict[str, int]:
    noted = list(
        Job.objects.filter(event_unpublished_at__isnull=False).order_by("event_unpublished_at")[: conf.batch_limit]
    )
    # Fitted as the outbox fits them: a result too large for SNS goes as its link.
    events = [event_fitted(job_state_event_build(job=job))[0] for job in noted]
    not_taken = {event.job_id for event in job_events_publish(events=events)}
    counts = {"republished": 0, "not_taken": len(not_taken)}
    for job in noted:
        if job.pk not in not_taken:
            # Cleared only if nothing noted a newer loss meanwhile (that one's next run publishes).
            Job.objects.filter(pk=job.pk, event_unpublished_at=job.event_unpublished_at).update(
                event_unpublished_at=None
            )
            counts["republished"] += 1
    return counts


def jobs_sweep_purge(*, conf: SweepConf, now: dt.datetime) -> dict[str, int]:
    jobs = jobs_purge_finished(before=now - dt.timedelta(days=conf.retention_days), limit=conf.batch_limit)
    return {"jobs": jobs, "rate_limits": rate_limit_counters_purge()}


def sweeps_run(*, names: Iterable[str] = SWEEPS, now: dt.datetime | None = None) -> dict[str, dict[str, int] | str]:
    """Runs the named sweeps; returns their counts, or ``"error"`` for a sweep that raised (logged)."""
    conf = sweep_conf()
    now = now or timezone.now()
    outbox = EventOutbox(max_delay=0.25)
    runs: dict[str, Callable[[], dict[str, int]]] = {
        "unsent": lambda: jobs_sweep_unsent(conf=conf, now=now),
        "leases": lambda: jobs_sweep_leases(conf=conf, now=now, sink=outbox),
        "purge": lambda: jobs_sweep_purge(conf=conf, now=now),
        "republish": lambda: jobs_sweep_republish(conf=conf),
    }
    report: dict[str, dict[str, int] | str] = {}
    try:
        for name in names:
            try:
                report[name] = runs[name]()
            except (OperationalError, InterfaceError) as error:
                # An operational state, not a bug: the next scheduled run does this one's work.
                logger.warning("sweep %s skipped, database unreachable: %s", name, error)
                report[name] = "database_unavailable"
            except Exception:
                logger.exception("sweep %s failed", name)
                report[name] = "error"
    finally:
        outbox.close()
        jobs_mark_unpublished(events=outbox.unpublished)  # the next run's republish sends them
    logger.info("sweeps: %s", report)
    return report
