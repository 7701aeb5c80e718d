"""Keeps web pages of other sites out of the local stack's ports.

A page on any site can make the browser send requests to 127.0.0.1: a form or ``fetch`` to the
gateways or to moto, a ``new WebSocket()`` to the WebSocket gateway, and with DNS rebinding
(``evil.example`` re-resolving to 127.0.0.1) even read the answers as same-origin. Browsers mark
every such request: an ``Origin`` header on cross-origin requests, on every POST and on every
WebSocket handshake, and the attacker's name in ``Host`` after a rebinding. SDKs and the
functions send neither a foreign ``Origin`` nor a foreign ``Host``. So each listener refuses:

- an ``Origin`` that is not the stack's own page (the HTTP gateway's origin), per scope: the
  WebSocket handshake may come from the page; moto and the management API never from any page;
- a ``Host`` that is not this listener's own ``127.0.0.1:<port>`` or ``localhost:<port>``.

Refusals are 403 with API Gateway's body (``{"message": "Forbidden"}``), before the app runs.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost")
FORBIDDEN = json.dumps({"message": "Forbidden"}).encode()


def own_hosts(host: str, port: int) -> frozenset[str]:
    """``Host`` values of a listener on ``host:port``: its address, and either loopback name."""
    return frozenset(f"{name}:{port}" for name in {host, *LOOPBACK_NAMES})


def own_origins(host: str, port: int) -> frozenset[str]:
    """The origins of the stack's page served on ``host:port``."""
    return frozenset(f"http://{name}" for name in own_hosts(host, port))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def refusal(scope: Scope, *, origins: Collection[str], hosts: Collection[str]) -> str | None:
    """Why a request (HTTP or WebSocket handshake) is refused, or None when it may pass."""
    host = _header(scope, b"host")
    if host is None or host.lower() not in hosts:
        return f"host {host!r} is not this stack's"
    origin = _header(scope, b"origin")
    if origin is not None and origin.lower().rstrip("/") not in origins:
        return f"origin {origin!r} is not this stack's page"
    return None


class BrowserGuard:
    """ASGI middleware: ``http_origins`` for HTTP requests, ``websocket_origins`` for handshakes."""

    def __init__(
        self,
        app: App,
        *,
        hosts: Collection[str],
        http_origins: Collection[str] = (),
        websocket_origins: Collection[str] = (),
        on_refusal: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)
        self.origins = {"http": frozenset(http_origins), "websocket": frozenset(websocket_origins)}
        self.on_refusal = on_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in self.origins:
            await self.app(scope, receive, send)
            return
        reason = refusal(scope, origins=self.origins[kind], hosts=self.hosts)
        if reason is None:
            await self.app(scope, receive, send)
            return
        if self.on_refusal is not None:
            self.on_refusal(f"403 {kind} {scope.get('path', '')}: {reason}")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(FORBIDDEN)).encode())]
        if kind == "websocket":
            await receive()  # websocket.connect; then refuse the upgrade with an HTTP answer
            await send({"type": "websocket.http.response.start", "status": 403, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": FORBIDDEN})
            return
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": FORBIDDEN})
