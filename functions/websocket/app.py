"""The FastAPI app behind the WebSocket API: one route per API Gateway route.

``mangum_adapter.ApiGatewayWebSocket`` turns each event into ``POST /ws/<route>`` with the adapted
``WsRequest`` in ``scope["aws.ws"]``. The routes are ``async def`` on purpose: Lambda hands a
container one event at a time, so the blocking DynamoDB and management calls cannot hold up another
request, and a sync route would pay for a thread hop (and, cold, a thread pool) on every event.
The OpenAPI and docs routes are off: nothing reaches this app but API Gateway.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from contracts.ws_protocol import ErrorReply
from functions.websocket import config, deps, service
from functions.websocket.ws_events import WsRequest

logger = logging.getLogger(__name__)

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
_OK = b'{"ok":true}'


def _ws(request: Request) -> WsRequest:
    ws: WsRequest = request.scope["aws.ws"]
    return ws


@app.post("/ws/connect")
async def connect(request: Request) -> Response:
    try:
        trust = deps.trust()
    except config.ConfigError as error:  # no JWKS configured: refuse (503), say why in the logs
        logger.error("connect refused: %s", error)
        return JSONResponse({"error": {"code": "unavailable", "message": "try again later"}}, status_code=503)
    outcome = service.connect(request=_ws(request), store=deps.store(), trust=trust)
    if outcome.status == 200:
        return Response(_OK, media_type="application/json")
    return JSONResponse({"error": {"code": outcome.code, "message": outcome.message}}, status_code=outcome.status)


@app.post("/ws/disconnect")
async def disconnect(request: Request) -> Response:
    service.connection_forget(request=_ws(request), store=deps.store())
    return Response(_OK, media_type="application/json")


async def _message(request: Request) -> Response:
    ws = _ws(request)
    store = deps.store()
    try:
        answer = service.message(request=ws, store=store, trust=deps.trust())
    except Exception:  # a bug must still answer the client, not drop its frame silently
        logger.exception("message on %s failed", ws.connection_id)
        answer = ErrorReply(code="internal", message="internal error")
    service.reply(request=ws, answer=answer, management=deps.management(domain=ws.domain, stage=ws.stage), store=store)
    # API Gateway ignores this body (no route response is configured): the reply went above.
    return Response(_OK, media_type="application/json")


for _route in ("subscribe", "unsubscribe", "ping", "default"):
    app.add_api_route(f"/ws/{_route}", _message, methods=["POST"], name=f"ws-{_route}")
