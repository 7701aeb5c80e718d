"""Webhook receivers on 127.0.0.1: each records every delivery it gets and verifies its signature
with PyPI's `standardwebhooks` (the library docs/webhooks.md tells receivers to use), and answers
from a script: statuses in turn, or never.

Shared by the tests through the local stack (tests/integration/webhooks, tests/e2e) and the deploy
rehearsal (infra/rehearse/webhooks.py), so both judge deliveries the same way."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from infra.threaded_http import HOST, QuietHandler, serving_in_thread

HANG_SECONDS = 8.0  # longer than the service's 5 s attempt timeout
POLL_SECONDS = 0.05


@dataclass
class Delivery:
    at: float
    headers: dict[str, str]
    body: bytes
    payload: Any  # what Webhook.verify returned (None when the signature did not verify)
    verified: bool


@dataclass
class Receiver:
    """``answers``: the status of each delivery in turn, the last one repeated; 0 never answers."""

    answers: list[int] = field(default_factory=lambda: [200])
    secret: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, headers: dict[str, str], body: bytes) -> int:
        payload: Any = None
        verified = False
        if self.secret:
            try:
                payload = Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        with self._lock:
            self.deliveries.append(Delivery(time.monotonic(), headers, body, payload, verified))
            index = len(self.deliveries) - 1
        return self.answers[min(index, len(self.answers) - 1)]

    def wait_for(self, count: int, *, timeout: float = 60.0) -> list[Delivery]:
        """The deliveries so far, once there are at least ``count``."""
        return self.wait_until(lambda deliveries: len(deliveries) >= count, what=f"{count} deliveries", timeout=timeout)

    def wait_until(self, done: Callable[[list[Delivery]], bool], *, what: str, timeout: float = 60.0) -> list[Delivery]:
        """The deliveries so far, once ``done`` says they are enough; TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / POLL_SECONDS) + 1):  # bounded in count as well as in time
            with self._lock:
                deliveries = list(self.deliveries)
            if done(deliveries):
                return deliveries
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
        raise TimeoutError(f"not {what} in {timeout:.0f} s: {len(self.deliveries)} deliveries arrived")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server names its handlers so
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 4 * 1024 * 1024))
            status = receiver.record({name.lower(): value for name, value in self.headers.items()}, body)
            if status == 0:
                time.sleep(HANG_SECONDS)  # a receiver that never answers in time
                return
            self.answer(status, b"" if status in (204, 304) else b"ok")  # those statuses carry no body

    return Handler


@contextmanager
def serving(receiver: Receiver) -> Iterator[Receiver]:
    with serving_in_thread(_handler(receiver), name="webhook-receiver") as server:
        receiver.url = f"http://{HOST}:{server.server_address[1]}/hook"
        yield receiver
