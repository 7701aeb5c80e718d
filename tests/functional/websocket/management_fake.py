"""A hand-written fake of the API Gateway management API on 127.0.0.1.

moto cannot say what API Gateway says (410 for a closed connection, 429 when throttled), so this
answers ``POST|DELETE /<stage>/@connections/<id>`` from a script and records what it received.
It also refuses requests without a SigV4 ``execute-api`` signature, as AWS would.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

STAGE = "dev"


@dataclass
class Script:
    gone: set[str] = field(default_factory=set)
    throttle: dict[str, int] = field(default_factory=dict)  # connection → how many 429s before a 200
    fail: dict[str, int] = field(default_factory=dict)  # connection → how many 500s before a 200


class ManagementFake:
    def __init__(self) -> None:
        self.script = Script()
        self.lock = threading.Lock()
        self.received: dict[str, list[bytes]] = defaultdict(list)
        self.attempts: dict[str, int] = defaultdict(int)
        self.deleted: list[str] = []
        self.url = ""

    def frames(self, connection_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(data) for data in self.received.get(connection_id, [])]

    def answer(self, method: str, connection_id: str, data: bytes) -> int:
        with self.lock:
            self.attempts[connection_id] += 1
            if connection_id in self.script.gone:
                return 410
            if self.script.throttle.get(connection_id, 0) > 0:
                self.script.throttle[connection_id] -= 1
                return 429
            if self.script.fail.get(connection_id, 0) > 0:
                self.script.fail[connection_id] -= 1
                return 500
            if method == "DELETE":
                self.deleted.append(connection_id)
            else:
                self.received[connection_id].append(data)
            return 200


def _handler_class(fake: ManagementFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length)
            prefix = f"/{STAGE}/@connections/"
            authorization = self.headers.get("Authorization", "")
            if not authorization.startswith("AWS4-HMAC-SHA256 ") or "/execute-api/aws4_request" not in authorization:
                status = 403
            elif not self.path.startswith(prefix):
                status = 404
            else:
                status = fake.answer(method, unquote(self.path[len(prefix) :]), data)
            body = b"{}" if status == 200 else json.dumps({"message": f"status {status}"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    return Handler


@contextmanager
def management_fake() -> Iterator[ManagementFake]:
    fake = ManagementFake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/{STAGE}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
