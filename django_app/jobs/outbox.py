"""A buffer of job events, published with ``PublishBatch`` (10 per call) instead of one call each.

The worker adds an event for every state change. Ten buffered events leave at once as one
PublishBatch, on a small thread pool, so SNS's latency overlaps the worker's database work; fewer
leave at the latest ``max_delay`` seconds after the first (a timer) or at ``flush()``, which the
worker calls before it returns and which waits for every publish in flight.

Two publishes may be in flight at once, so a job's events can reach SNS out of order. The contract
allows it: clients order by ``seq`` and drop lower ones (and SNS to SQS never promised order anyway).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from contracts.job_event import JobEvent
from django_app.jobs.events import SNS_BATCH_LIMIT, job_events_publish

logger = logging.getLogger(__name__)

# A pushed event must fit a WebSocket message (128 KB) inside its envelope; larger results travel
# as a link to the job instead (the API serves the full result).
EVENT_RESULT_MAX_BYTES = 96 * 1024
# SNS caps a PublishBatch at 256 KiB for all its entries together, attributes included.
PUBLISH_BATCH_MAX_BYTES = 200 * 1024
# Events without a result are small (note ≤ 200 chars, error message ≤ 2,000): a safe upper bound.
SMALL_EVENT_BYTES = 4 * 1024


def event_fitted(event: JobEvent) -> tuple[JobEvent, int]:
    """The event as it will be published, and its size in bytes (an upper bound for small ones)."""
    if event.result is None:
        return event, SMALL_EVENT_BYTES
    size = len(event.model_dump_json().encode())
    if size <= EVENT_RESULT_MAX_BYTES:
        return event, size
    linked = event.model_copy(update={"result": None, "result_url": f"/api/jobs/{event.job_id}/"})
    return linked, SMALL_EVENT_BYTES


class EventSink(Protocol):
    def add(self, event: JobEvent) -> None: ...


class EventOutbox:
    def __init__(
        self,
        *,
        max_delay: float = 0.25,
        publish: Callable[..., int] = job_events_publish,
        concurrency: int = 2,
    ) -> None:
        self._max_delay = max_delay
        self._publish = publish
        self._concurrency = concurrency
        self._pending: list[tuple[JobEvent, int]] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: list[Future[int]] = []
        self.published = 0

    def add(self, event: JobEvent) -> None:
        fitted = event_fitted(event)
        with self._lock:
            self._pending.append(fitted)
            full = len(self._pending) >= SNS_BATCH_LIMIT
            if not full and self._timer is None and self._max_delay > 0:
                self._timer = threading.Timer(self._max_delay, self._send_pending)
                self._timer.daemon = True
                self._timer.start()
        if full or self._max_delay <= 0:
            # A full PublishBatch leaves at once, in the background, while the worker goes on.
            self._send_pending()

    def _send_pending(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
            timer, self._timer = self._timer, None
            if timer is not None and timer is not threading.current_thread():
                timer.cancel()
            if not events:
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="job-events")
            for chunk in _chunks(events):
                self._in_flight.append(self._executor.submit(self._publish, events=chunk))

    def flush(self) -> int:
        """Sends what is buffered and waits for every publish in flight; returns how many SNS accepted."""
        self._send_pending()
        with self._lock:
            in_flight, self._in_flight = self._in_flight, []
        accepted = 0
        for future in in_flight:
            try:
                accepted += future.result()
            except Exception:  # job_events_publish logs and swallows AWS errors; anything else is a bug
                logger.exception("publishing job events failed")
        self.published += accepted
        return accepted

    def close(self) -> int:
        """Flushes and stops the publishing threads: nothing may outlive the invocation, because
        Lambda freezes the container as soon as the handler returns."""
        accepted = self.flush()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        return accepted


def _chunks(events: Sequence[tuple[JobEvent, int]]) -> list[list[JobEvent]]:
    """At most ten events and PUBLISH_BATCH_MAX_BYTES per chunk, in order."""
    chunks: list[list[JobEvent]] = []
    chunk: list[JobEvent] = []
    chunk_bytes = 0
    for event, size in events:
        if chunk and (len(chunk) == SNS_BATCH_LIMIT or chunk_bytes + size > PUBLISH_BATCH_MAX_BYTES):
            chunks.append(chunk)
            chunk, chunk_bytes = [], 0
        chunk.append(event)
        chunk_bytes += size
    if chunk:
        chunks.append(chunk)
    return chunks
