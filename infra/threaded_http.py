"""A small HTTP server on 127.0.0.1 in a daemon thread, for the stand-ins and receivers the tests
and the rehearsal run beside the stack (webhook receivers, Django's gateway stand-in)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that answers in one call and keeps the test output free of access logs."""

    def answer(self, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serving_in_thread(handler: type[BaseHTTPRequestHandler], *, name: str) -> Iterator[ThreadingHTTPServer]:
    """Serves on a free port until the block ends; ``server.server_address[1]`` is the port."""
    server = ThreadingHTTPServer((HOST, 0), handler)
    server.daemon_threads = True  # a receiver that hangs on purpose must not hold the shutdown
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
