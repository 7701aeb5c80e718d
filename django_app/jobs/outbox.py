"""A buffer of job events, published with ``PublishBatch`` (10 per call) instead of one call each.

The worker adds an event for every state change (a batch's claims or finishes at once, with
``add_all``). Ten buffered events leave at once as one PublishBatch, on a small thread pool shared
by the container's invocations, so SNS's latency overlaps the worker's database work; fewer leave at
the latest ``max_delay`` seconds after the first (a timer) or at ``flush()``, which the worker calls
before it returns and which waits for every publish in flight.

Two publishes may be in flight at once, so a job's events can reach SNS out of order. The contract
allows it: clients order by ``seq`` and drop lower ones (and SNS to SQS never promised order anyway).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from django.conf import settings

from contracts.event_result import event_result_fitted
from contracts.job_event import JobEvent
from django_app.jobs.events import SNS_BATCH_LIMIT, job_events_publish

logger = logging.getLogger(__name__)

# SNS caps a PublishBatch at 256 KiB for all its entries together, attributes included.
PUBLISH_BATCH_MAX_BYTES = 200 * 1024
# Events without a result are small (note ≤ 200 chars, error message ≤ 2,000): a safe upper bound.
SMALL_EVENT_BYTES = 4 * 1024


def event_fitted(event: JobEvent) -> tuple[JobEvent, int]:
    """The event as it will be published (contracts.event_result's rule, with the limit
    ``JOB_EVENT_RESULT_MAX_BYTES``), and its size in bytes (an upper bound for small ones)."""
    fitted = event_result_fitted(event, max_bytes=settings.JOB_EVENT_RESULT_MAX_BYTES)
    return fitted.event, SMALL_EVENT_BYTES if fitted.inline_bytes is None else fitted.inline_bytes


class EventSink(Protocol):
    def add(self, event: JobEvent) -> None: ...

    # A batch's events at once: ten of them leave as one PublishBatch without arming the timer.
    def add_all(self, events: Sequence[JobEvent]) -> None: ...


# Shared by every outbox of the container (one per invocation): starting threads per invocation
# cost more than the publishing they overlap. Idle between invocations; ``flush`` waits for all
# of an invocation's publishes, so none runs while Lambda has the container frozen.
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _shared_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="job-events")
        return _executor


class EventOutbox:
    def __init__(self, *, max_delay: float = 0.25, publish: Callable[..., list[JobEvent]] = job_events_publish) -> None:
        self._max_delay = max_delay
        self._publish = publish  # returns the events SNS did not take
        self._pending: list[tuple[JobEvent, int]] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._in_flight: list[tuple[list[JobEvent], Future[list[JobEvent]]]] = []
        self.published = 0
        self.unpublished: list[JobEvent] = []  # not taken after the publisher's retries

    def add(self, event: JobEvent) -> None:
        self.add_all([event])

    def add_all(self, events: Sequence[JobEvent]) -> None:
        fitted = [event_fitted(event) for event in events]
        with self._lock:
            self._pending.extend(fitted)
            full = len(self._pending) >= SNS_BATCH_LIMIT
        if full or self._max_delay <= 0:
            # A full PublishBatch leaves at once, in the background, while the worker goes on.
            self._send_pending(keep_partial=self._max_delay > 0)
        with self._lock:
            if self._pending and self._timer is None and self._max_delay > 0:
                self._timer = threading.Timer(self._max_delay, self._send_pending)
                self._timer.daemon = True
                self._timer.start()

    def _send_pending(self, *, keep_partial: bool = False) -> None:
        """Sends what is buffered; with ``keep_partial``, only full PublishBatches (the rest waits
        for more events, the timer or ``flush``)."""
        with self._lock:
            chunks = _chunks(self._pending)
            self._pending = chunks.pop() if keep_partial and chunks and len(chunks[-1]) < SNS_BATCH_LIMIT else []
            if not self._pending:
                timer, self._timer = self._timer, None
                if timer is not None and timer is not threading.current_thread():
                    timer.cancel()
            for chunk in chunks:
                events = [event for event, _ in chunk]
                self._in_flight.append((events, _shared_executor().submit(self._publish, events=events)))

    def flush(self) -> int:
        """Sends what is buffered and waits for every publish in flight; returns how many SNS accepted."""
        self._send_pending()
        with self._lock:
            in_flight, self._in_flight = self._in_flight, []
        accepted = 0
        for events, future in in_flight:
            try:
                not_taken = future.result()
            except Exception:  # job_events_publish logs and swallows AWS errors; anything else is a bug
                logger.exception("publishing job events failed")
                not_taken = events
            accepted += len(events) - len(not_taken)
            self.unpublished += not_taken
        self.published += accepted
        return accepted

    def close(self) -> int:
        """Flushes: no publish may still be running when the handler returns, because Lambda
        freezes the container as soon as it does."""
        return self.flush()


def _chunks(events: Sequence[tuple[JobEvent, int]]) -> list[list[tuple[JobEvent, int]]]:
    """At most ten events and PUBLISH_BATCH_MAX_BYTES per chunk, in order."""
    chunks: list[list[tuple[JobEvent, int]]] = []
    chunk: list[tuple[JobEvent, int]] = []
    chunk_bytes = 0
    for event, size in events:
        if chunk and (len(chunk) == SNS_BATCH_LIMIT or chunk_bytes + size > PUBLISH_BATCH_MAX_BYTES):
            chunks.append(chunk)
            chunk, chunk_bytes = [], 0
        chunk.append((event, size))
        chunk_bytes += size
    if chunk:
        chunks.append(chunk)
    return chunks
