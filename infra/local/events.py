"""The events AWS hands to functions, built from what reached the local stack: API Gateway REST
(payload 1.0) proxy events, HTTP API (payload 2.0) events, API Gateway WebSocket events, SQS
batches and EventBridge schedules.
The shapes follow tests/events/*.json (captured from AWS).
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import unquote_plus

from infra.local.cfn import ACCOUNT_ID


def _request_time(epoch_ms: int) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000))


def rest_v1_event(
    *,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    stage: str,
    api_id: str,
    binary_support: bool,
) -> dict[str, Any]:
    """A REST API ``{proxy+}`` event. Zappa's ``binary_support`` sets the API's binary media types to
    ``*/*``, so every body arrives base64-encoded, as here."""
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        canonical = "-".join(part.capitalize() for part in name.split("-"))
        single_headers[canonical] = value  # API Gateway keeps the last value in `headers`
        multi_headers.setdefault(canonical, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    now_ms = int(time.time() * 1000)
    encoded = binary_support and bool(body)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": _request_time(now_ms),
            "path": path,  # a custom domain's base path maps the API at the root: no stage prefix
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": api_id,
            "requestTimeEpoch": now_ms,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": single_headers.get("User-Agent")},
            "domainName": single_headers.get("Host", "127.0.0.1"),
            "apiId": api_id,
        },
        "body": (base64.b64encode(body).decode() if encoded else body.decode("utf-8", errors="replace"))
        if body
        else None,
        "isBase64Encoded": encoded,
    }


def http_v2_event(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    route_key: str,
    path_parameters: dict[str, str],
    api_id: str,
    region: str,
) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event, as tests/events/apigw_http_v2.json: lower-cased headers,
    repeated ones joined with commas, cookies apart, and a body base64-encoded unless it is text."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [part.strip() for part in value.split(";") if part.strip()]
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    query: dict[str, str] = {}
    for part in raw_query.split("&"):
        if part:
            name, _, value = part.partition("=")
            name, value = unquote_plus(name), unquote_plus(value)
            query[name] = f"{query[name]},{value}" if name in query else value
    content_type = joined.get("content-type", "")
    textual = not body or content_type.startswith("text/") or "json" in content_type or "xml" in content_type
    try:
        text = body.decode() if textual else ""
    except UnicodeDecodeError:  # declared text, but not UTF-8: it travels base64-encoded
        textual = False
    now_ms = int(time.time() * 1000)
    domain = f"{api_id}.execute-api.{region}.amazonaws.com"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "cookies": cookies,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": base64.b64encode(uuid.uuid4().bytes[:10]).decode(),
            "routeKey": route_key,
            "stage": "$default",
            "time": _request_time(now_ms),
            "timeEpoch": now_ms,
        },
        "isBase64Encoded": not textual,
    }
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = text if textual else base64.b64encode(body).decode()
    return event


def ws_request_context(
    *,
    route_key: str,
    event_type: str,
    connection_id: str,
    connected_at_ms: int,
    stage: str,
    domain: str,
    api_id: str,
    source_ip: str,
    user_agent: str,
) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    request_id = uuid.uuid4().hex[:16]
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": _request_time(now_ms),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"userAgent": user_agent, "sourceIp": source_ip},
        "requestId": request_id,
        "domainName": domain,
        "connectionId": connection_id,
        "apiId": api_id,
    }


def ws_connect_event(
    context: dict[str, Any], *, headers: list[tuple[str, str]], query: list[tuple[str, str]]
) -> dict[str, Any]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        canonical = "-".join(part.capitalize() for part in name.split("-"))
        single[canonical] = value
        multi.setdefault(canonical, []).append(value)
    query_single = dict(query)
    query_multi: dict[str, list[str]] = {}
    for name, value in query:
        query_multi.setdefault(name, []).append(value)
    return {
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "requestContext": context,
        "isBase64Encoded": False,
    }


def ws_message_event(context: dict[str, Any], *, body: str | bytes) -> dict[str, Any]:
    """MESSAGE events carry no headers (AWS-FACTS.md); binary frames arrive base64-encoded."""
    context = {**context, "messageId": uuid.uuid4().hex[:16]}
    if isinstance(body, bytes):
        return {"requestContext": context, "body": base64.b64encode(body).decode(), "isBase64Encoded": True}
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def ws_disconnect_event(context: dict[str, Any], *, status_code: int, reason: str) -> dict[str, Any]:
    context = {**context, "disconnectStatusCode": status_code, "disconnectReason": reason}
    host = context["domainName"]
    return {
        "headers": {"Host": host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
        "multiValueHeaders": {"Host": [host], "x-api-key": [""], "X-Forwarded-For": [""], "x-restapi": [""]},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """A record of Lambda's SQS event from a ReceiveMessage answer (attributes in Lambda's casing)."""
    attributes = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            key: attributes[key]
            for key in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
                "MessageGroupId",
                "MessageDeduplicationId",
                "SequenceNumber",
                "AWSTraceHeader",
            )
            if key in attributes
        },
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    # Lambda adds the attributes' digest only when the message has attributes, as SQS does.
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """Lambda's casing of an SQS message attribute; the value key present is the one of its type."""
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def scheduled_event(*, rule_name: str, region: str) -> dict[str, Any]:
    """EventBridge's event for a schedule without ``input`` (with ``input`` the function gets the
    input itself)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }
