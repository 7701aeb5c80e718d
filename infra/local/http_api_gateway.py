"""API Gateway HTTP API (payload 2.0) in front of serverless.yml's ``httpApi`` routes: the most
specific route takes a request, its function's answer becomes the response, and CORS is the
gateway's, from ``provider.httpApi.cors``: preflights are answered here, never by a function, and
the configured headers replace any a function sets (as AWS documents for HTTP APIs).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from infra.local.config import HttpRoute
from infra.local.events import http_v2_event
from infra.local.functions import FunctionPool
from infra.local.http_gateway import MAX_PAYLOAD_BYTES, Receive, Scope, Send, _respond

INTEGRATION_TIMEOUT_SECONDS = 30.0  # an HTTP API's integration timeout (its maximum)
# osls's `cors: true`: these headers, every origin.
_DEFAULT_ALLOWED_HEADERS = (
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
    "X-Amzn-Trace-Id",
)


@dataclass(frozen=True)
class Cors:
    origins: frozenset[str]  # "*" for any
    headers: tuple[str, ...]
    methods: tuple[str, ...]
    expose: tuple[str, ...] = ()
    credentials: bool = False
    max_age: int | None = None

    @classmethod
    def from_config(cls, config: Any, *, methods: Collection[str], extra_origins: Collection[str] = ()) -> Cors | None:
        """provider.httpApi.cors as osls reads it (``true`` or the object form); ``extra_origins``
        adds the local page's actual origin when the stack runs on other ports than configured."""
        if not config:
            return None
        if config is True:
            config = {}
        origins = frozenset(str(origin).rstrip("/") for origin in config.get("allowedOrigins") or ["*"])
        return cls(
            origins=origins if "*" in origins else origins | frozenset(extra_origins),
            headers=tuple(config.get("allowedHeaders") or _DEFAULT_ALLOWED_HEADERS),
            methods=tuple(config.get("allowedMethods") or sorted({*methods, "OPTIONS"} - {"*"})),
            expose=tuple(config.get("exposedResponseHeaders") or ()),
            credentials=bool(config.get("allowCredentials", False)),
            max_age=int(config["maxAge"]) if "maxAge" in config else None,
        )

    def allowed_origin(self, origin: str | None) -> str | None:
        if origin is None:
            return None
        if "*" in self.origins:
            return "*" if not self.credentials else origin
        return origin if origin.rstrip("/") in self.origins else None

    def response_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return []
        headers = [(b"access-control-allow-origin", allowed.encode())]
        if self.credentials:
            headers.append((b"access-control-allow-credentials", b"true"))
        if self.expose:
            headers.append((b"access-control-expose-headers", ",".join(self.expose).encode()))
        return headers

    def preflight_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        headers = self.response_headers(origin)
        if not headers:
            return []
        headers += [
            (b"access-control-allow-methods", ",".join(self.methods).encode()),
            (b"access-control-allow-headers", ",".join(self.headers).lower().encode()),
        ]
        if self.max_age is not None:
            headers.append((b"access-control-max-age", str(self.max_age).encode()))
        return headers


def _specificity(route: HttpRoute) -> tuple[int, int, int]:
    # API Gateway prefers exact paths over parameters, and a named method over ANY.
    parts = route.path.strip("/").split("/")
    literal = sum(1 for part in parts if not part.startswith("{"))
    return (route.path != "*", literal, route.method != "*")


async def _json_error(send: Send, status: int, message: str, cors: list[tuple[bytes, bytes]]) -> None:
    # API Gateway's own answers: {"message": ...}.
    headers = [(b"content-type", b"application/json"), *cors]
    await _respond(send, status, json.dumps({"message": message}).encode(), headers)


class HttpApiGateway:
    def __init__(
        self,
        *,
        routes: list[HttpRoute],
        pools: Mapping[str, FunctionPool],
        cors: Cors | None,
        api_id: str,
        region: str,
    ) -> None:
        self.routes = sorted(routes, key=_specificity, reverse=True)
        self.pools = pools
        self.cors = cors
        self.api_id = api_id
        self.region = region

    def route_for(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        for route in self.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        lowered = {name.lower(): value for name, value in headers}
        origin = lowered.get("origin")
        method = str(scope["method"]).upper()
        if self.cors is not None and method == "OPTIONS" and "access-control-request-method" in lowered:
            await _respond(send, 204, b"", self.cors.preflight_headers(origin))
            return
        cors = self.cors.response_headers(origin) if self.cors is not None else []
        body = b""
        for _ in range(100_000):  # bounded: 10 MB in chunks of at least 100 bytes
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_PAYLOAD_BYTES:
                await _json_error(send, 413, "Request Entity Too Large", cors)
                return
            if not message.get("more_body"):
                break
        found = self.route_for(method, scope["path"])
        if found is None:
            await _json_error(send, 404, "Not Found", cors)
            return
        route, parameters = found
        verb = "ANY" if route.method == "*" else route.method
        route_key = "$default" if route.path == "*" else f"{verb} {route.path}"
        client_ip = scope["client"][0] if scope.get("client") else "127.0.0.1"
        event = http_v2_event(
            method=method,
            path=scope["path"],
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=[*headers, ("x-forwarded-for", client_ip), ("x-forwarded-proto", scope.get("scheme", "http"))],
            body=body,
            source_ip=client_ip,
            route_key=route_key,
            path_parameters=parameters,
            api_id=self.api_id,
            region=self.region,
        )
        try:
            invocation = await asyncio.wait_for(
                self.pools[route.function].invoke(
                    event,
                    trigger=f"httpApi {method} {scope['path']}",
                    correlation_id=f"req:{event['requestContext']['requestId']}",
                ),
                INTEGRATION_TIMEOUT_SECONDS,
            )
        except TimeoutError:
            await _json_error(send, 503, "Service Unavailable", cors)
            return
        if not invocation.ok:
            await _json_error(send, 500, "Internal Server Error", cors)
            return
        status, out_headers, payload = _response(invocation.result)
        if self.cors is not None:  # the gateway's CORS headers, never the function's
            out_headers = [(name, value) for name, value in out_headers if not name.startswith(b"access-control-")]
        await _respond(send, status, payload, [*out_headers, *cors])


def _response(result: Any) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Payload 2.0's response: a dict with ``statusCode``, or anything else as a JSON 200."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, [(b"content-type", b"application/json")], json.dumps(result).encode()
    headers = [
        (str(name).lower().encode(), str(value).strip().encode("latin-1"))
        for name, value in (result.get("headers") or {}).items()
    ]
    headers += [(b"set-cookie", str(cookie).encode("latin-1")) for cookie in result.get("cookies") or []]
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, payload
