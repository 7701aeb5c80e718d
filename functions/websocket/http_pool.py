"""A small keep-alive HTTP/1.1 connection pool on ``http.client``, safe to share between threads.

Why not urllib3 or botocore's sender: each request here is one small POST to one host, and the
per-call CPU of the general clients (retry objects, header dicts, hooks) is most of what boto3's
``post_to_connection`` costs (docs/benchmarks.md, push fan-out). Timeouts are explicit: one for connecting, one for
each read, so a stuck endpoint can never eat the Lambda's whole budget.
"""

from __future__ import annotations

import http.client
import queue
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class TransportError(Exception):
    """The request may or may not have reached the server: connection refused, reset, or timed out."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int
    base_path: str

    @property
    def host_header(self) -> str:
        """``host[:port]``, the port only when not the scheme's default (as browsers and botocore send it)."""
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def parse_origin(url: str) -> Origin:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Origin(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


# Errors that mean "the pooled keep-alive connection was already closed by the server": the request
# never reached it, so one retry on a fresh connection is safe.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, http.client.BadStatusLine)


class HttpPool:
    def __init__(
        self,
        url: str,
        *,
        max_idle: int = 64,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
    ) -> None:
        self.origin = parse_origin(url)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._idle: queue.LifoQueue[http.client.HTTPConnection] = queue.LifoQueue(maxsize=max_idle)
        self._ssl_context: Any = None
        if self.origin.scheme == "https":
            import ssl  # only HTTPS endpoints pay for it

            self._ssl_context = ssl.create_default_context()

    def _new_connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        if self._ssl_context is not None:
            connection = http.client.HTTPSConnection(
                self.origin.host, self.origin.port, timeout=self.connect_timeout, context=self._ssl_context
            )
        else:
            connection = http.client.HTTPConnection(self.origin.host, self.origin.port, timeout=self.connect_timeout)
        try:
            connection.connect()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise TransportError(f"connect to {self.origin.host}:{self.origin.port}: {error}") from error
        assert connection.sock is not None
        connection.sock.settimeout(self.read_timeout)
        return connection

    def _checkout(self) -> tuple[http.client.HTTPConnection, bool]:
        try:
            return self._idle.get_nowait(), True
        except queue.Empty:
            return self._new_connection(), False

    def _checkin(self, connection: http.client.HTTPConnection) -> None:
        try:
            self._idle.put_nowait(connection)
        except queue.Full:
            connection.close()

    def request(self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str]) -> HttpResponse:
        """One request; ``headers`` must include Host (they are usually signed, so we never add any)."""
        for attempt in range(2):  # a stale pooled connection gets one retry on a fresh one
            connection, reused = self._checkout() if attempt == 0 else (self._new_connection(), False)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except _STALE as error:
                connection.close()
                if reused:
                    continue
                raise TransportError(f"{method} {path}: {error!r}") from error
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                raise TransportError(f"{method} {path}: {error!r}") from error
            if response.will_close:
                connection.close()
            else:
                self._checkin(connection)
            return HttpResponse(response.status, data, {k.lower(): v for k, v in response.getheaders()})
        raise AssertionError("unreachable: the second attempt returns or raises")

    def close(self) -> None:
        for _ in range(self._idle.maxsize):
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
