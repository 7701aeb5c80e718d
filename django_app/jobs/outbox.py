"""A buffer of job events, published with ``PublishBatch`` (10 per call) instead of one call each.

The worker adds an event for every state change; the outbox publishes them at the latest
``max_delay`` seconds after the first buffered one (a timer thread) and at ``flush()``, which the
worker calls before it returns: Lambda freezes the container after the handler returns, so
nothing may be left in flight. A lock serialises publishing so events of a job leave in ``seq`` order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from contracts.job_event import JobEvent
from django_app.jobs.events import SNS_BATCH_LIMIT, job_events_publish

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
    ) -> None:
        self._max_delay = max_delay
        self._publish = publish
        self._pending: list[tuple[JobEvent, int]] = []
        self._pending_lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.published = 0

    def add(self, event: JobEvent) -> None:
        fitted = event_fitted(event)
        with self._pending_lock:
            self._pending.append(fitted)
            if self._timer is None and self._max_delay > 0:
                self._timer = threading.Timer(self._max_delay, self._flush_from_timer)
                self._timer.daemon = True
                self._timer.start()
        if self._max_delay <= 0:
            self.flush()

    def _take(self) -> Sequence[tuple[JobEvent, int]]:
        with self._pending_lock:
            events, self._pending = self._pending, []
            timer, self._timer = self._timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        return events

    def _flush_from_timer(self) -> None:
        self.flush()

    def flush(self) -> int:
        """Publishes everything buffered; returns how many events SNS accepted."""
        with self._publish_lock:
            events = self._take()
            if not events:
                return 0
            accepted = 0
            chunk: list[JobEvent] = []
            chunk_bytes = 0
            for event, size in events:
                if chunk and (len(chunk) == SNS_BATCH_LIMIT or chunk_bytes + size > PUBLISH_BATCH_MAX_BYTES):
                    accepted += self._publish(events=chunk)
                    chunk, chunk_bytes = [], 0
                chunk.append(event)
                chunk_bytes += size
            accepted += self._publish(events=chunk)
            self.published += accepted
            return accepted

    def close(self) -> int:
        """Flush and wait for a timer flush that may be running, so nothing outlives the invocation."""
        accepted = self.flush()
        with self._publish_lock:  # a timer thread mid-publish holds this lock until it is done
            pass
        return accepted
