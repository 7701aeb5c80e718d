"""Sending one message to many connections: concurrently, with retries, within a deadline.

A fixed set of worker threads pull (connection, bytes) pairs from one shared iterator, so a
1,000-connection fan-out costs 32 thread tasks, not 1,000 futures. Throttling (429), 5xx and
transport errors are retried with full-jitter backoff in the worker that met them (which also
slows the whole fan-out down, as a 429 asks); 410 is final and reported as ``gone``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from contracts import backoff
from functions.websocket.management import ConnectionGone, ManagementApiError

logger = logging.getLogger(__name__)


class Sender(Protocol):
    """What ``ManagementApi`` offers; raises its domain errors (``ConnectionGone``, ``Throttled``...)."""

    def post_to_connection(self, *, connection_id: str, data: bytes) -> None: ...


@dataclass
class FanoutResult:
    delivered: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # 410: the caller forgets these connections
    dropped: list[str] = field(default_factory=list)  # a permanent per-connection error (400, 413)
    failed: list[str] = field(default_factory=list)  # retries or deadline exhausted, or 403: retry later

    @property
    def complete(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.05
    max_delay: float = 1.0

    def delay(self, attempt: int) -> float:
        return backoff.full_jitter(base=self.base_delay, exponent=attempt, cap=self.max_delay)


class Fanout:
    def __init__(self, management: Sender, *, concurrency: int = 32, retry: RetryPolicy | None = None) -> None:
        self.management = management
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="fanout")

    def send(self, messages: Iterable[tuple[str, bytes]], *, deadline: float) -> FanoutResult:
        """Sends each ``(connection_id, data)``; ``deadline`` is a ``time.monotonic()`` value."""
        pending = list(messages)
        result = FanoutResult()
        if not pending:
            return result
        work = iter(pending)
        lock = threading.Lock()
        workers = min(self.concurrency, len(pending))
        futures = [self._executor.submit(self._worker, work, lock, result, deadline) for _ in range(workers)]
        for future in futures:
            future.result()
        return result

    def _worker(
        self, work: Iterator[tuple[str, bytes]], lock: threading.Lock, result: FanoutResult, deadline: float
    ) -> None:
        for _ in range(1_000_000):  # bounded: far more than one event's subscribers
            with lock:
                item = next(work, None)
            if item is None:
                return
            outcome = self._send_one(*item, deadline=deadline)
            getattr(result, outcome).append(item[0])  # list.append is atomic under the GIL

    def _send_one(self, connection_id: str, data: bytes, *, deadline: float) -> str:
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                self.management.post_to_connection(connection_id=connection_id, data=data)
                return "delivered"
            except ConnectionGone:
                return "gone"
            except ManagementApiError as error:
                if not error.retryable:
                    logger.warning("push to %s not retried: %s", connection_id, error)
                    return "dropped" if error.status in (400, 413) else "failed"
                pause = self.retry.delay(attempt)
                if attempt == self.retry.max_attempts or time.monotonic() + pause > deadline:
                    logger.warning("push to %s gave up after %d attempts: %s", connection_id, attempt, error)
                    return "failed"
                time.sleep(pause)
        return "failed"

    def close(self) -> None:
        self._executor.shutdown(wait=False)
