"""API Gateway REST (proxy integration) in front of the Django function: each HTTP request becomes
a payload 1.0 event for Zappa's handler, its answer becomes the HTTP response.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_plus

from infra.local.events import rest_v1_event
from infra.local.functions import FunctionPool

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway REST's request payload limit
INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway's default integration timeout
CORRELATION_HEADER = "x-correlation-id"


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, message: str) -> None:
    # API Gateway's own error answers: JSON {"message": ...} with x-amzn-ErrorType.
    await _respond(
        send,
        status,
        json.dumps({"message": message}).encode(),
        [(b"content-type", b"application/json"), (b"x-amzn-errortype", b"InternalServerErrorException")],
    )


class HttpGateway:
    def __init__(self, *, pool: FunctionPool, stage: str, api_id: str, binary_support: bool) -> None:
        self.pool = pool
        self.stage = stage
        self.api_id = api_id
        self.binary_support = binary_support

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        for _ in range(100_000):  # bounded: 10 MB in chunks of at least 100 bytes
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_PAYLOAD_BYTES:
                await _error(send, 413, "Request Too Long")
                return
            if not message.get("more_body"):
                break
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        query = [
            tuple(part.split("=", 1)) if "=" in part else (part, "")
            for part in scope.get("query_string", b"").decode("latin-1").split("&")
            if part
        ]
        event = rest_v1_event(
            method=scope["method"],
            path=scope["path"],
            query=[(unquote_plus(name), unquote_plus(value)) for name, value in query],
            headers=[
                *headers,
                ("X-Forwarded-Proto", scope.get("scheme", "http")),
                ("X-Forwarded-For", scope["client"][0]),
            ],
            body=body,
            source_ip=scope["client"][0] if scope.get("client") else "127.0.0.1",
            stage=self.stage,
            api_id=self.api_id,
            binary_support=self.binary_support,
        )
        # The client's X-Correlation-Id (Django stores it on the job), else API Gateway's request id.
        correlation = {name.lower(): value for name, value in headers}.get(CORRELATION_HEADER, "")
        correlation = correlation or f"req:{event['requestContext']['requestId']}"
        trigger = f"http {scope['method']} {scope['path']}"
        try:
            invocation = await asyncio.wait_for(
                self.pool.invoke(event, trigger=trigger, correlation_id=correlation[:100]),
                INTEGRATION_TIMEOUT_SECONDS,
            )
        except TimeoutError:
            await _error(send, 504, "Endpoint request timed out")
            return
        result = invocation.result
        if not invocation.ok or not isinstance(result, dict) or "statusCode" not in result:
            await _error(send, 502, "Internal server error")
            return
        out_headers: list[tuple[bytes, bytes]] = []
        multi = result.get("multiValueHeaders") or {}
        # Values are trimmed as API Gateway trims them: Zappa passes Django's Set-Cookie values on
        # with a leading space, which strict HTTP servers refuse.
        for name, values in multi.items():
            out_headers += [(name.lower().encode(), str(value).strip().encode("latin-1")) for value in values]
        for name, value in (result.get("headers") or {}).items():
            if name not in multi:
                out_headers.append((name.lower().encode(), str(value).strip().encode("latin-1")))
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        await _respond(send, int(result["statusCode"]), payload, out_headers)
