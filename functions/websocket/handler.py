"""Lambda entry point of the ``websocket`` function.

Takes API Gateway WebSocket events (``requestContext.eventType`` CONNECT, MESSAGE or DISCONNECT)
and returns the Lambda proxy answer ``{"statusCode", "headers", "body"}``: for ``$connect`` 200
accepts the upgrade and 401/403/503 refuse it; for messages and ``$disconnect`` the answer is
ignored by API Gateway (replies go through the management API).

Mangum runs with ``lifespan="off"``: "auto" would run start-up and shutdown on every invocation.
"""

from __future__ import annotations

from mangum import Mangum

from functions.websocket.app import app
from functions.websocket.mangum_adapter import ApiGatewayWebSocket

handler = Mangum(app, lifespan="off", custom_handlers=[ApiGatewayWebSocket])
