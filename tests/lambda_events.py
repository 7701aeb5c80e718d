"""Keyword-only builders of API Gateway HTTP events from the real fixtures in tests/events."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "events"


@cache
def _fixture(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(_fixture(name))


def _body_fields(body: bytes | str | None) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if isinstance(body, bytes):
        return base64.b64encode(body).decode(), True
    return body, False


def rest_v1_event(
    *,
    method: str = "GET",
    path: str = "/",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes | str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API (payload 1.0) proxy event, as Zappa's handler receives it."""
    event = fixture("apigw_rest_v1.json")
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = path
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    event["requestContext"]["path"] = f"/{event['requestContext']['stage']}{path}"
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    if query:
        event["queryStringParameters"] = dict(query)
        event["multiValueQueryStringParameters"] = {key: [value] for key, value in query.items()}
    event["body"], event["isBase64Encoded"] = _body_fields(body)
    return event


def http_v2_event(
    *,
    method: str = "GET",
    path: str = "/",
    headers: dict[str, str] | None = None,
    query: str = "",
    body: bytes | str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event."""
    event = fixture("apigw_http_v2.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["rawQueryString"] = query
    for name, value in (headers or {}).items():
        event["headers"][name.lower()] = value
    event["body"], event["isBase64Encoded"] = _body_fields(body)
    return event
