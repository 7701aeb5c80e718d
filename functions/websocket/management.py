"""The API Gateway management API (``apigatewaymanagementapi``): sending to one connection.

``POST /@connections/{id}`` under ``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}``,
SigV4-signed for ``execute-api``. AWS's error answers become domain errors, as in Chalice's
``WebsocketAPI.send``: 410 ``ConnectionGone`` (closed, unknown, or not yet established),
429 ``Throttled`` (account rate, or the client's buffer is full), 413 ``PayloadTooLarge``, and
``ManagementApiError`` for the rest (``retryable`` for 5xx and transport failures).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from functions.websocket import sigv4
from functions.websocket.aws_endpoints import region as configured_region
from functions.websocket.http_pool import HttpPool, TransportError

# botocore: PostToConnection's ``Data`` is a blob of at most 131,072 bytes (API Gateway's 128 KB).
MAX_MESSAGE_BYTES = 128 * 1024
_EXECUTE_API_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


class ManagementApiError(Exception):
    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class ConnectionGone(ManagementApiError):
    """410: the connection is closed or unknown; forget it."""


class Throttled(ManagementApiError):
    """429: slow down and retry."""


class PayloadTooLarge(ManagementApiError):
    """413: over 128 KB; retrying the same bytes cannot help."""


class ManagementApi:
    def __init__(
        self,
        endpoint: str,
        *,
        region: str | None = None,
        credentials: sigv4.Credentials | None = None,
        max_idle: int = 64,
        connect_timeout: float = 2.0,
        read_timeout: float = 3.0,
    ) -> None:
        self.pool = HttpPool(endpoint, max_idle=max_idle, connect_timeout=connect_timeout, read_timeout=read_timeout)
        host_match = _EXECUTE_API_HOST.match(self.pool.origin.host)
        self.region = region or (host_match["region"] if host_match else configured_region())
        self.credentials = credentials or sigv4.credentials_from_environment()
        self._prefix = f"{self.pool.origin.base_path}/@connections/"

    def _send(self, method: str, connection_id: str, data: bytes) -> None:
        path = self._prefix + quote(connection_id, safe="")
        headers = sigv4.sign(
            method=method,
            host=self.pool.origin.host_header,
            path=path,
            body=data,
            region=self.region,
            service="execute-api",
            credentials=self.credentials,
        )
        try:
            response = self.pool.request(method, path, body=data, headers=headers)
        except TransportError as error:
            raise ManagementApiError(str(error), retryable=True) from error
        status = response.status
        if status < 300:
            return
        detail = f"{method} @connections/{connection_id}: HTTP {status} {response.body[:200]!r}"
        if status == 410:
            raise ConnectionGone(detail, status=status)
        if status == 429:
            raise Throttled(detail, status=status, retryable=True)
        if status == 413:
            raise PayloadTooLarge(detail, status=status)
        raise ManagementApiError(detail, status=status, retryable=status >= 500)

    def post_to_connection(self, *, connection_id: str, data: bytes) -> None:
        if len(data) > MAX_MESSAGE_BYTES:
            raise PayloadTooLarge(f"{len(data)} bytes is over API Gateway's {MAX_MESSAGE_BYTES}")
        self._send("POST", connection_id, data)

    def delete_connection(self, *, connection_id: str) -> None:
        """Closes the socket from our side; a connection that is already gone is not an error."""
        try:
            self._send("DELETE", connection_id, b"")
        except ConnectionGone:
            return


def endpoint_for(*, domain: str, stage: str) -> str:
    """The management endpoint of the API an event came through, when none is configured.

    Right for ``{api-id}.execute-api`` domains; a custom domain needs MANAGEMENT_API_ENDPOINT
    (the management API answers only on the execute-api host or the custom domain's base path).
    """
    return f"https://{domain}/{stage}"
