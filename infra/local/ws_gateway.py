"""API Gateway's WebSocket API, locally: ``$connect`` decides the handshake (a non-2xx answer refuses
it with that status), frames are routed by the route selection expression (``$default`` when no
route matches), ``$disconnect`` follows every close (best effort, as on AWS), and connections are
closed after the idle timeout or the maximum connection time. The same port serves the management
API (``management.py``), as the execute-api host does.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from typing import Any
from urllib.parse import parse_qsl

from infra.local.events import ws_connect_event, ws_disconnect_event, ws_message_event, ws_request_context
from infra.local.functions import FunctionPool
from infra.local.http_gateway import Receive, Scope, Send
from infra.local.logstream import LogStream
from infra.local.management import management_api
from infra.local.ws_connections import Connection

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway: 128 KB per message (frames over it close with 1009)


def new_connection_id() -> str:
    return base64.b64encode(os.urandom(12)).decode()  # AWS's look: 16 characters, e.g. "YJ0bQd_PoAMCFXA="


def select_route(expression: str, body: str | bytes, routes: dict[str, str]) -> str | None:
    """``$request.body.<path>``: the route of the frame's JSON value at <path>; else ``$default``."""
    key: str | None = None
    prefix = "$request.body."
    if isinstance(body, str) and expression.startswith(prefix):
        try:
            value: Any = json.loads(body)
            for part in expression[len(prefix) :].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            key = value if isinstance(value, str) else None
        except (ValueError, RecursionError):  # not JSON, or nested past what json can parse
            key = None  # API Gateway sends both to $default; never drop the frame
    if key is not None and key in routes:
        return key
    return "$default" if "$default" in routes else None


class WsGateway:
    def __init__(
        self,
        *,
        pools: dict[str, FunctionPool],
        routes: dict[str, str],
        route_response: dict[str, str],
        selection_expression: str,
        stage: str,
        api_id: str,
        idle_timeout: float,
        max_connection_seconds: float,
        log: LogStream,
        region: str,
        throttle_share: float = 0.0,
    ) -> None:
        self.pools = pools
        self.throttle_share = throttle_share
        self.region = region  # the management API checks signatures for this region (management.py)
        self.routes = routes
        self.route_response = route_response
        self.selection_expression = selection_expression
        self.stage = stage
        self.api_id = api_id
        self.idle_timeout = idle_timeout
        self.max_connection_seconds = max_connection_seconds
        self.log = log
        self.connections: dict[str, Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
        elif scope["type"] == "http":
            await management_api(self, scope, receive, send)

    async def _invoke(self, route: str, event: dict[str, Any], connection_id: str) -> Any:
        pool = self.pools[self.routes[route]]
        return await pool.invoke(event, trigger=f"ws {route}", correlation_id=f"conn:{connection_id[:8]}")

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].rstrip("/") not in ("", f"/{self.stage}"):
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            return
        await receive()  # websocket.connect
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        lower = {name.lower(): value for name, value in headers}
        connection_id = new_connection_id()
        connected_at = time.time()
        source_ip = scope["client"][0] if scope.get("client") else "127.0.0.1"
        user_agent = lower.get("user-agent", "")
        context_args = {
            "connection_id": connection_id,
            "connected_at_ms": int(connected_at * 1000),
            "stage": self.stage,
            "domain": lower.get("host", "127.0.0.1"),
            "api_id": self.api_id,
            "source_ip": source_ip,
            "user_agent": user_agent,
        }
        if "$connect" in self.routes:
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            context = ws_request_context(route_key="$connect", event_type="CONNECT", **context_args)
            invocation = await self._invoke(
                "$connect", ws_connect_event(context, headers=headers, query=query), connection_id
            )
            answer = invocation.result if invocation.ok and isinstance(invocation.result, dict) else {"statusCode": 502}
            status = int(answer.get("statusCode", 200))
            if not 200 <= status < 300:
                body = str(answer.get("body") or "").encode()
                response_headers = [
                    (str(k).lower().encode(), str(v).encode()) for k, v in (answer.get("headers") or {}).items()
                ]
                await send({"type": "websocket.http.response.start", "status": status, "headers": response_headers})
                await send({"type": "websocket.http.response.body", "body": body})
                return
        await send({"type": "websocket.accept"})
        connection = Connection(
            id=connection_id,
            send=send,
            context=context_args,
            connected_at=connected_at,
            source_ip=source_ip,
            user_agent=user_agent,
        )
        # Registered only now: until $connect has answered, posting to it gives 410 (as on AWS).
        self.connections[connection_id] = connection
        status_code, reason = await self._serve(connection, receive, send)
        connection.open = False
        self.connections.pop(connection_id, None)
        if "$disconnect" in self.routes:
            context = ws_request_context(route_key="$disconnect", event_type="DISCONNECT", **context_args)
            await self._invoke(
                "$disconnect", ws_disconnect_event(context, status_code=status_code, reason=reason), connection_id
            )

    async def _serve(self, connection: Connection, receive: Receive, send: Send) -> tuple[int, str]:
        """Frames until the client closes, the management API deletes, or a timeout; returns the
        close code and reason that $disconnect reports."""
        closer = asyncio.create_task(connection.close_requested.wait())
        try:
            for _ in range(10_000_000):  # bounded: a connection lives at most max_connection_seconds
                now = time.time()
                deadline = min(
                    connection.last_active + self.idle_timeout, connection.connected_at + self.max_connection_seconds
                )
                if now >= deadline:
                    await send({"type": "websocket.close", "code": 1001, "reason": "Going away"})
                    return 1001, "Going away"
                receiver = asyncio.ensure_future(receive())
                done, _ = await asyncio.wait(
                    {receiver, closer}, timeout=deadline - now, return_when=asyncio.FIRST_COMPLETED
                )
                if closer in done:
                    receiver.cancel()
                    await send({"type": "websocket.close", "code": 1000, "reason": ""})
                    return 1000, "Connection deleted"
                if receiver not in done:
                    receiver.cancel()
                    continue
                message = receiver.result()
                if message["type"] == "websocket.disconnect":
                    code = int(message.get("code", 1005))
                    return code, f"Client-side close frame status code '{code}'"
                connection.last_active = time.time()
                body: str | bytes = message["text"] if message.get("text") is not None else message.get("bytes") or b""
                self._spawn(self._route(connection, body))
            return 1001, "Going away"
        finally:
            closer.cancel()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _route(self, connection: Connection, body: str | bytes) -> None:
        # Frames are invoked concurrently, as API Gateway does: their order is not guaranteed.
        route = select_route(self.selection_expression, body, self.routes)
        if route is None:
            await self.post(connection.id, json.dumps({"message": "Forbidden", "connectionId": connection.id}).encode())
            return
        context = ws_request_context(route_key=route, event_type="MESSAGE", **connection.context)
        invocation = await self._invoke(route, ws_message_event(context, body=body), connection.id)
        if route in self.route_response and invocation.ok and isinstance(invocation.result, dict):
            reply = invocation.result.get("body")
            if reply is not None:
                await self.post(connection.id, str(reply).encode())

    async def post(self, connection_id: str, data: bytes) -> bool:
        """Sends a message; False when the connection is gone."""
        connection = self.connections.get(connection_id)
        if connection is None or not connection.open:
            return False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        try:
            if text is not None:
                await connection.send({"type": "websocket.send", "text": text})
            else:
                await connection.send({"type": "websocket.send", "bytes": data})
        except Exception:  # the socket closed under us: for the caller the connection is gone
            connection.open = False
            return False
        return True

    async def close_all(self) -> None:
        for connection in list(self.connections.values()):
            connection.close_requested.set()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
