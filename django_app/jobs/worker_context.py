"""The ``TaskContext`` a task receives from the worker: progress, cooperative cancel, time left."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.utils import timezone

from django_app.jobs.models import Job, JobStatus
from django_app.jobs.outbox import EventSink
from django_app.jobs.state_machine import job_progress_record

NOTE_MAX_CHARS = 200  # Job.note's max_length


class WorkerTaskContext:
    """Bound to one attempt of one job. Not shared between threads.

    ``progress`` writes at most once per ``interval`` seconds (each write is an UPDATE and an event);
    a call inside the interval is kept and written by the next call after it. A final pending value
    is dropped: the terminal state that follows supersedes it.
    """

    def __init__(
        self,
        *,
        job: Job,
        attempt: int,
        sink: EventSink,
        interval: float,
        lambda_remaining: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self.attempt = attempt
        self._sink = sink
        self._interval = interval
        self._lambda_remaining = lambda_remaining
        self._clock = clock
        self._last_write: float | None = None
        self._written: tuple[int, str] | None = None
        self._pending: tuple[int, str] | None = None
        # Set once a write finds the job no longer ours (cancelled, or taken over after a lost lease).
        self.lost = False

    def progress(self, percent: int, note: str = "") -> None:
        if self.lost:
            return
        value = (max(0, min(100, int(percent))), str(note)[:NOTE_MAX_CHARS])
        now = self._clock()
        if self._last_write is not None and now - self._last_write < self._interval:
            self._pending = value
            return
        self._pending = None
        if value == self._written:
            return
        self._last_write = now
        self._written = value
        if not job_progress_record(
            job=self.job, attempt=self.attempt, percent=value[0], note=value[1], sink=self._sink
        ):
            self.lost = True

    def cancelled(self) -> bool:
        """Reads the row: True once the job was cancelled, or is no longer this attempt's to finish."""
        if self.lost:
            return True
        row = Job.objects.filter(pk=self.job.pk).values_list("status", "attempts").first()
        self.lost = row is None or row[0] != JobStatus.RUNNING or row[1] != self.attempt
        return self.lost

    def remaining_seconds(self) -> float:
        """The smaller of the time left in this Lambda invocation and the time left on the lease."""
        left: list[float] = []
        if self.job.lease_until is not None:
            left.append((self.job.lease_until - timezone.now()).total_seconds())
        if self._lambda_remaining is not None:
            left.append(self._lambda_remaining())
        return max(0.0, min(left)) if left else float("inf")
