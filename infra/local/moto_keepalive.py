"""moto's server with HTTP/1.1 keep-alive: the stack's clients reuse their connections.

moto serves through werkzeug's development server, which closes every connection after one answer:
each AWS call from a function (a job event's PublishBatch, an SQS poll, a DynamoDB read) then paid
for a new TCP connection on both sides and moto for a new thread. Werkzeug cannot keep connections
open: after each answer it drains whatever the client sent next, which on a kept connection is the
next request (it would read it away, or wait for more). This handler answers the same way moto's
does (moto's environ, moto's application) but reads exactly the request's body before the
application runs and writes each answer whole, with its length, so the connection is ready for
the next request. An idle connection is closed after ``IDLE_SECONDS``; clients open a new one.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import DechunkedInput, make_server

logger = logging.getLogger(__name__)

# Longer than any pause between a function's calls in a busy stack, short enough that a stopped
# client's connection (and its thread) does not linger.
IDLE_SECONDS = 60.0


class KeepAliveHandler(MotoRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS  # socketserver sets it on the connection: an idle read ends the thread

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in one write below; without this, a client's delayed ACK could
        # still hold back a small answer that follows another on the same connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_error(self, format: str, *args: Any) -> None:
        if not format.startswith("Request timed out"):  # an idle kept connection closing: expected
            super().log_error(format, *args)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        body = self._body(environ)
        # The application reads what CONTENT_LENGTH says, now also for a body that came chunked.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = status, headers
            return answer.setdefault("early", []).append  # the legacy write(): kept with the body

        try:
            chunks = self.server.app(environ, start_response)
            try:
                answer_body = b"".join([*answer.get("early", []), *chunks])
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except Exception:
            logger.exception("moto failed on %s %s", self.command, self.path)
            answer = {"status": "500 Internal Server Error", "headers": [("Content-Type", "text/plain")]}
            answer_body = b"Internal Server Error"
        self._answer(answer["status"], answer["headers"], answer_body)

    def _body(self, environ: dict[str, Any]) -> bytes:
        """The whole request body, read off the connection before the application sees it."""
        if isinstance(environ["wsgi.input"], DechunkedInput):
            return environ["wsgi.input"].read()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _answer(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        code, _, reason = status.partition(" ")
        lines = [f"HTTP/1.1 {code} {reason}"]
        length = str(len(body))
        for name, value in headers:
            if name.lower() == "content-length" and self.command == "HEAD":
                length = value  # the size a GET would have had, as the application said
            elif name.lower() not in ("content-length", "transfer-encoding", "connection"):
                lines.append(f"{name}: {value}")
        no_body = self.command == "HEAD" or code in ("204", "304") or code.startswith("1")
        if not no_body or self.command == "HEAD":
            lines.append(f"Content-Length: {length}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if no_body else head + body)


class KeepAliveMotoServer:
    """moto's application on 127.0.0.1 behind ``KeepAliveHandler``, served from a daemon thread
    (the same start, port and stop as moto's ``ThreadedMotoServer``)."""

    def __init__(self, *, port: int) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=KeepAliveHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
