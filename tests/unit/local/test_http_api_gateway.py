"""The HTTP API gateway (infra/local/http_api_gateway.py): API Gateway's route choice, its CORS
(preflights answered by the gateway, its headers replacing a function's), the payload 2.0 event
and response mapping."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from infra.local.config import HttpRoute
from infra.local.http_api_gateway import Cors, HttpApiGateway

PAGE = "http://127.0.0.1:8000"
CAPTURED = json.loads((Path(__file__).parents[2] / "events" / "apigw_http_v2.json").read_text())


class _Invocation:
    def __init__(self, result: Any, ok: bool = True) -> None:
        self.ok = ok
        self.result = result


class _Pool:
    def __init__(self, result: Any, ok: bool = True) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer = _Invocation(result, ok)

    async def invoke(self, event: dict[str, Any], *, trigger: str, correlation_id: str) -> _Invocation:
        self.events.append(event)
        return self.answer


ROUTES = [
    HttpRoute(function="api", method="GET", path="/webhooks/endpoints"),
    HttpRoute(function="api", method="POST", path="/webhooks/endpoints/{id}/test"),
    HttpRoute(function="other", method="*", path="/webhooks/endpoints/{id}/{action}"),
    HttpRoute(function="api", method="DELETE", path="/webhooks/endpoints/{id}"),
]
CORS = Cors.from_config(
    {"allowedOrigins": [PAGE], "allowedHeaders": ["Authorization", "Content-Type"], "maxAge": 600},
    methods={"GET", "POST", "DELETE"},
)


def _request(
    gateway: HttpApiGateway, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"limit=5",
        "headers": [(k.encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 5000),
        "scheme": "http",
    }
    asyncio.run(gateway(scope, receive, send))
    start, body_message = sent
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, body_message["body"]


def _gateway(pools: dict[str, _Pool], cors: Cors | None = CORS) -> HttpApiGateway:
    return HttpApiGateway(routes=ROUTES, pools=pools, cors=cors, api_id="abc", region="us-east-1")  # type: ignore[arg-type]


def test_the_most_specific_route_wins_with_its_path_parameters() -> None:
    api, other = _Pool({"statusCode": 202, "body": "{}"}), _Pool({"statusCode": 200, "body": "{}"})
    gateway = _gateway({"api": api, "other": other})
    assert _request(gateway, "POST", "/webhooks/endpoints/ep_1/test")[0] == 202
    assert api.events[-1]["routeKey"] == "POST /webhooks/endpoints/{id}/test"
    assert api.events[-1]["pathParameters"] == {"id": "ep_1"}
    assert _request(gateway, "GET", "/webhooks/endpoints/ep_1/other")[0] == 200
    assert other.events[-1]["pathParameters"] == {"id": "ep_1", "action": "other"}
    assert other.events[-1]["routeKey"] == "ANY /webhooks/endpoints/{id}/{action}"
    status, _headers, body = _request(gateway, "PUT", "/webhooks/endpoints")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})


def test_the_event_has_the_captured_shape() -> None:
    api = _Pool({"statusCode": 200, "body": "[]"})
    _request(
        _gateway({"api": api}),
        "GET",
        "/webhooks/endpoints",
        headers={"Authorization": "Bearer x", "Cookie": "a=1; b=2", "X-Many": "1"},
    )
    event = api.events[-1]
    assert set(CAPTURED) <= set(event)
    assert set(CAPTURED["requestContext"]) <= set(event["requestContext"])
    assert event["headers"]["authorization"] == "Bearer x"  # lower-cased, as HTTP APIs send them
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"limit": "5"}
    assert event["rawQueryString"] == "limit=5"
    assert event["requestContext"]["stage"] == "$default"


def test_a_preflight_is_answered_by_the_gateway_for_the_page_only() -> None:
    api = _Pool({"statusCode": 500, "body": ""})
    gateway = _gateway({"api": api})
    ask = {"Origin": PAGE, "Access-Control-Request-Method": "POST"}
    status, headers, _ = _request(gateway, "OPTIONS", "/webhooks/endpoints", headers=ask)
    assert status == 204
    assert headers["access-control-allow-origin"] == PAGE
    assert "authorization" in headers["access-control-allow-headers"]
    assert headers["access-control-max-age"] == "600"
    assert api.events == []  # never reaches the function
    foreign = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    status, headers, _ = _request(gateway, "OPTIONS", "/webhooks/endpoints", headers=foreign)
    assert status == 204
    assert not any(name.startswith("access-control-") for name in headers)


def test_the_gateways_cors_headers_replace_the_functions() -> None:
    api = _Pool({"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*", "X-Own": "1"}, "body": "{}"})
    status, headers, _ = _request(_gateway({"api": api}), "GET", "/webhooks/endpoints", headers={"Origin": PAGE})
    assert status == 200
    assert headers["access-control-allow-origin"] == PAGE
    assert headers["x-own"] == "1"


def test_a_crashed_function_is_a_500_and_a_plain_result_a_json_200() -> None:
    crashed = _Pool(None, ok=False)
    status, _headers, body = _request(_gateway({"api": crashed}), "GET", "/webhooks/endpoints")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    plain = _Pool({"endpoints": []})
    status, headers, body = _request(_gateway({"api": plain}), "GET", "/webhooks/endpoints")
    assert (status, headers["content-type"], json.loads(body)) == (200, "application/json", {"endpoints": []})
