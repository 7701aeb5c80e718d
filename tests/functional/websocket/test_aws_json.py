"""The websocket function's own AWS JSON client against a real HTTP server on 127.0.0.1 that
answers like a proxy in trouble: an HTML 5xx page is retried, never a crash on its body."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from functions.websocket import sigv4
from functions.websocket.aws_json import AwsError, AwsJsonClient


@pytest.fixture
def answers() -> Iterator[tuple[list[tuple[int, bytes]], str]]:
    queued: list[tuple[int, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            status, body = queued.pop(0)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield queued, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _client(url: str) -> AwsJsonClient:
    credentials = sigv4.Credentials(access_key="local", secret_key="local")
    return AwsJsonClient(service="dynamodb", url=url, region="us-east-1", credentials=credentials)


def test_an_html_5xx_page_is_retried(answers: tuple[list[tuple[int, bytes]], str]) -> None:
    queued, url = answers
    queued += [(500, b"<html><h1>Internal Server Error</h1></html>"), (200, b'{"Items": []}')]

    assert _client(url).call("DynamoDB_20120810.Query", {"TableName": "t"}) == {"Items": []}


def test_html_5xx_pages_to_the_end_are_an_aws_error(answers: tuple[list[tuple[int, bytes]], str]) -> None:
    queued, url = answers
    queued += [(502, b"<html>Bad Gateway</html>")] * 3

    with pytest.raises(AwsError) as raised:
        _client(url).call("DynamoDB_20120810.Query", {"TableName": "t"})
    assert raised.value.status == 502
    assert raised.value.code == "HTTP502"
