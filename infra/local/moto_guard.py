"""moto's side of ``browser_guard``, for its WSGI server (in moto's own process).

moto answers any request, with CORS headers for any ``Origin``: a page on any site could read and
write the stack's queues, table and SSM parameters (the ticket signing key among them) through the
developer's browser. No page ever needs moto, so a request with an ``Origin`` header is refused,
and so is one whose ``Host`` is not moto's own ``127.0.0.1:<port>``/``localhost:<port>`` (DNS
rebinding). SDKs and the functions send no ``Origin`` and moto's own address as ``Host``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from infra.local.browser_guard import own_hosts

FORBIDDEN = json.dumps({"message": "Forbidden"}).encode()


def refusal(environ: dict[str, Any]) -> str | None:
    """Why moto refuses this request, or None. Its port is the one it listens on (SERVER_PORT):
    chosen by the OS when the stack asks for port 0."""
    if "HTTP_ORIGIN" in environ:
        return f"origin {environ['HTTP_ORIGIN']!r}: no page may call moto"
    host = str(environ.get("HTTP_HOST", "")).lower()
    if host not in own_hosts("127.0.0.1", int(environ.get("SERVER_PORT") or 0)):
        return f"host {host!r} is not moto's"
    return None


def guarded(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def guard(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if refusal(environ) is not None:
            start_response(
                "403 Forbidden", [("Content-Type", "application/json"), ("Content-Length", str(len(FORBIDDEN)))]
            )
            return [FORBIDDEN]
        return app(environ, start_response)

    return guard


def install() -> None:
    """Wraps moto's dispatcher application before ``ThreadedMotoServer.start`` builds it."""
    from moto.moto_server import threaded_moto_server

    original = threaded_moto_server.DomainDispatcherApplication

    def guarded_dispatcher(*args: Any, **kwargs: Any) -> Callable[..., Iterable[bytes]]:
        return guarded(original(*args, **kwargs))

    threaded_moto_server.DomainDispatcherApplication = guarded_dispatcher  # type: ignore[assignment,misc]
