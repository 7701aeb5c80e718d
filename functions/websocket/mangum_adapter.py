"""A Mangum custom handler for API Gateway WebSocket events (the ``LambdaHandler`` protocol of
``mangum.types``: ``infer``, ``scope``, ``body``, ``__call__``).

Each event becomes one ASGI ``http`` request, ``POST /ws/<route>``, with the event's headers (none
for MESSAGE), its query string, and the adapted ``WsRequest`` under ``scope["aws.ws"]``. The ASGI
response becomes the Lambda proxy answer API Gateway expects: only ``$connect``'s status code
matters to the client (non-2xx refuses the upgrade).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from mangum.types import LambdaConfig, LambdaContext, LambdaEvent, Response, Scope

from functions.websocket.ws_events import WsEvent, is_websocket_event, ws_request_from_event


class ApiGatewayWebSocket:
    @classmethod
    def infer(cls, event: LambdaEvent, context: LambdaContext, config: LambdaConfig) -> bool:
        return is_websocket_event(event)

    def __init__(self, event: LambdaEvent, context: LambdaContext, config: LambdaConfig) -> None:
        self.event = event
        self.context = context
        self.config = config
        self.request = ws_request_from_event(cast(WsEvent, event))

    @property
    def body(self) -> bytes:
        return self.request.body

    @property
    def scope(self) -> Scope:
        request = self.request
        return {
            "type": "http",
            "http_version": "1.1",
            "method": "POST",
            "headers": [
                [name.encode("latin-1", "replace"), value.encode("latin-1", "replace")]
                for name, value in request.headers.items()
            ],
            "path": request.path,
            "raw_path": None,
            "root_path": "",
            "scheme": "https",
            "query_string": urlencode(request.query).encode(),
            "server": (request.domain or "apigateway", 443),
            "client": None,
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "aws.event": self.event,
            "aws.context": self.context,
            "aws.ws": request,
        }

    def __call__(self, response: Response) -> dict[str, Any]:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in response["headers"]}
        return {
            "statusCode": response["status"],
            "headers": {"content-type": headers.get("content-type", "application/json")},
            "body": response["body"].decode("utf-8", "replace"),
        }
