"""API Gateway WebSocket events as typed dicts, and the pure adapter from event to ``WsRequest``.

Assume no more than AWS sends: CONNECT carries headers and the query string; MESSAGE carries
``body`` and ``requestContext`` and **no headers at all**; DISCONNECT carries
``requestContext.disconnectStatusCode`` and ``disconnectReason``. Every event carries
``connectionId``, ``routeKey``, ``eventType``, ``stage``, ``domainName``, ``apiId``, ``connectedAt``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

WsEventType = Literal["CONNECT", "MESSAGE", "DISCONNECT"]
EVENT_TYPES: frozenset[str] = frozenset({"CONNECT", "MESSAGE", "DISCONNECT"})
# The custom routes of serverless.yml; every other route key (``$default``) maps to ``default``.
MESSAGE_ROUTES: frozenset[str] = frozenset({"subscribe", "unsubscribe", "ping"})


class WsRequestContext(TypedDict, total=False):
    routeKey: str
    eventType: WsEventType
    connectionId: str
    stage: str
    domainName: str
    apiId: str
    connectedAt: int  # epoch milliseconds
    requestTimeEpoch: int  # epoch milliseconds
    requestId: str
    messageId: str
    disconnectStatusCode: int
    disconnectReason: str
    identity: dict[str, Any]


class WsEvent(TypedDict, total=False):
    requestContext: WsRequestContext
    headers: dict[str, str]
    multiValueHeaders: dict[str, list[str]]
    queryStringParameters: dict[str, str] | None
    multiValueQueryStringParameters: dict[str, list[str]] | None
    body: str
    isBase64Encoded: bool


@dataclass(frozen=True, slots=True)
class WsRequest:
    event_type: WsEventType
    route_key: str
    connection_id: str
    stage: str
    domain: str
    api_id: str
    connected_at_ms: int
    request_time_ms: int
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names; empty for MESSAGE
    body: bytes = b""
    is_binary: bool = False  # a binary frame (API Gateway base64-encodes it)
    disconnect_status_code: int | None = None
    disconnect_reason: str = ""

    @property
    def path(self) -> str:
        """The FastAPI route this event goes to."""
        if self.event_type == "CONNECT":
            return "/ws/connect"
        if self.event_type == "DISCONNECT":
            return "/ws/disconnect"
        return f"/ws/{self.route_key if self.route_key in MESSAGE_ROUTES else 'default'}"


def is_websocket_event(event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    context = event.get("requestContext")
    return isinstance(context, dict) and context.get("eventType") in EVENT_TYPES and "connectionId" in context


def _body(event: WsEvent) -> tuple[bytes, bool]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(raw, validate=True), True
        except (binascii.Error, ValueError):
            return b"", True
    return raw.encode("utf-8", "surrogatepass"), False


def ws_request_from_event(event: WsEvent) -> WsRequest:
    context = event["requestContext"]
    body, is_binary = _body(event)
    # API Gateway keeps the last value of a repeated query parameter in queryStringParameters.
    query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    status = context.get("disconnectStatusCode")
    return WsRequest(
        event_type=context["eventType"],
        route_key=context.get("routeKey", "$default"),
        connection_id=context["connectionId"],
        stage=context.get("stage", ""),
        domain=context.get("domainName", ""),
        api_id=context.get("apiId", ""),
        connected_at_ms=int(context.get("connectedAt") or 0),
        request_time_ms=int(context.get("requestTimeEpoch") or 0),
        query=query,
        headers=headers,
        body=body,
        is_binary=is_binary,
        disconnect_status_code=int(status) if status is not None else None,
        disconnect_reason=str(context.get("disconnectReason") or ""),
    )
