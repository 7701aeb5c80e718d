"""The WebSocket API's management API (``apigatewaymanagementapi``) at ``/@connections/{id}``, with
or without the stage prefix: POST sends (413 over 128 KB), GET describes, DELETE closes; an
unknown, closed or not yet established connection is 410 ``GoneException``. Errors carry
``x-amzn-ErrorType`` and a JSON ``{"message"}`` body, which is what botocore's rest-json parser
reads. As on AWS, a call must be SigV4-signed (``sigv4_check``), here with the stack's fake
credentials, which the functions and the tests sign with: an unsigned one is 403
``MissingAuthenticationTokenException``, a wrong signature 403 ``InvalidSignatureException``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from urllib.parse import parse_qsl

from infra.local.http_gateway import Receive, Scope, Send
from infra.local.moto_server import FAKE_CREDENTIALS
from infra.local.sigv4_check import SignedRequest, signature_problem
from infra.local.ws_connections import ConnectionHost

MAX_DATA_BYTES = 128 * 1024  # botocore: PostToConnection's Data is at most 131,072 bytes


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def _answer(send: Send, status: int, body: dict[str, object] | None, error: str = "") -> None:
    headers = [(b"content-type", b"application/json")]
    if error:
        headers.append((b"x-amzn-errortype", error.encode()))
    payload = json.dumps(body).encode() if body is not None else b""
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _connection_id(path: str, stage: str) -> str | None:
    for prefix in (f"/{stage}/@connections/", "/@connections/"):
        if path.startswith(prefix) and len(path) > len(prefix):
            return path[len(prefix) :]
    return None


def _signature_problem(scope: Scope, body: bytes, *, region: str) -> str | None:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    request = SignedRequest(
        method=scope["method"],
        url=f"http://{headers.get('host', '')}{raw_path.split('?', 1)[0]}",
        query=query,
        headers=headers,
        body=body,
    )
    return signature_problem(
        request,
        access_key=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region=region,
    )


async def management_api(gateway: ConnectionHost, scope: Scope, receive: Receive, send: Send) -> None:
    body = b""
    for _ in range(10_000):  # bounded: requests over 128 KB are refused below anyway
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body") or len(body) > MAX_DATA_BYTES + 1:
            break
    problem = _signature_problem(scope, body, region=gateway.region)
    if problem is not None:
        gateway.log.line("management", f"403 {scope['method']} {scope['path']}: {problem}")
        if "Authorization" in problem:
            await _answer(send, 403, {"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException")
        else:
            await _answer(send, 403, {"message": f"Forbidden: {problem}"}, "InvalidSignatureException")
        return
    connection_id = _connection_id(scope["path"], gateway.stage)
    if connection_id is None:
        await _answer(send, 403, {"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException")
        return
    method = scope["method"]
    connection = gateway.connections.get(connection_id)
    gone = connection is None or not connection.open
    if method == "POST":
        if gateway.throttle_share and random.random() < gateway.throttle_share:
            # Fault injection (--throttle-share): what AWS answers past the account's rate or when
            # the client's buffer is full. The frame is not sent; the caller retries.
            gateway.log.line("management", f"429 LimitExceededException (injected) for {connection_id}")
            await _answer(send, 429, {"message": "Rate exceeded"}, "LimitExceededException")
        elif len(body) > MAX_DATA_BYTES:
            await _answer(send, 413, {"message": "Request Too Long"}, "PayloadTooLargeException")
        elif gone or not await gateway.post(connection_id, body):
            await _answer(send, 410, {"message": None}, "GoneException")
        else:
            await _answer(send, 200, None)
    elif method == "GET":
        if gone or connection is None:
            await _answer(send, 410, {"message": None}, "GoneException")
            return
        await _answer(
            send,
            200,
            {
                "connectedAt": _iso(connection.connected_at),
                "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
                "lastActiveAt": _iso(connection.last_active),
            },
        )
    elif method == "DELETE":
        if gone or connection is None:
            await _answer(send, 410, {"message": None}, "GoneException")
            return
        connection.close_requested.set()
        await _answer(send, 204, None)
    else:
        await _answer(send, 403, {"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException")
