"""API Gateway REST (payload 1.0) proxy events, as API Gateway hands them to the Zappa function."""

from __future__ import annotations

import time
import uuid
from typing import Any

API_ID = "rehearsal1"
REGION = "us-east-1"


def api_host() -> str:
    """The host API Gateway would serve the Django function on; only AWS's DNS would answer it."""
    return f"{API_ID}.execute-api.{REGION}.amazonaws.com"


def api_base_url(stage: str) -> str:
    """Django's public base URL (SSM ``api-base-url``, every token's ``iss``), as step 4 of
    docs/operations.md sets it from ``zappa status``."""
    return f"https://{api_host()}/{stage}"


def rest_event(
    *, method: str, path: str, stage: str, headers: dict[str, str] | None = None, body: str | None = None
) -> dict[str, Any]:
    host = api_host()
    # API Gateway terminates TLS and says so; Django's SECURE_SSL_REDIRECT relies on it.
    all_headers = {"Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443", **(headers or {})}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "rehearsal"},
            "domainName": host,
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": False,
    }
