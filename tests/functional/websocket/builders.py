"""Keyword-only builders of real-shaped Lambda events (from ``tests/events/ws_*.json``), tickets, and
a Lambda context stub."""

from __future__ import annotations

import copy
import datetime as dt
import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

from contracts.job_event import JobEvent
from contracts.tickets import GRANT_AUDIENCE, TICKET_AUDIENCE
from infra.lambda_context import LambdaContext
from tests.signing_keys import ISSUER, kid, private_key

EVENTS = Path(__file__).resolve().parents[2] / "events"
TICKET_KEY = "django"  # names of tests/signing_keys.py keys: Django's, and one Django never published
OTHER_KEY = "other"


def _fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


def new_connection_id() -> str:
    # API Gateway's ids are 12 random bytes in base64: they end in "=" and must be URL-encoded.
    return secrets.token_urlsafe(9)[:11] + "="


def connect_event(*, connection_id: str, ticket: str | None, connected_at_ms: int | None = None) -> dict[str, Any]:
    event = _fixture("ws_connect.json")
    if ticket is None:
        event["queryStringParameters"] = None
        event["multiValueQueryStringParameters"] = None
    else:
        event["queryStringParameters"] = {"ticket": ticket}
        event["multiValueQueryStringParameters"] = {"ticket": [ticket]}
    now_ms = connected_at_ms if connected_at_ms is not None else int(time.time() * 1000)
    event["requestContext"].update(connectionId=connection_id, connectedAt=now_ms, requestTimeEpoch=now_ms)
    return event


def message_event(
    *, connection_id: str, body: str | dict[str, Any], route_key: str | None = None, base64_body: bytes | None = None
) -> dict[str, Any]:
    event = _fixture("ws_message.json")
    if base64_body is not None:
        import base64

        event["body"], event["isBase64Encoded"] = base64.b64encode(base64_body).decode(), True
    else:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if route_key is None:  # what API Gateway's route selection ($request.body.action) would pick
        try:
            action = json.loads(event["body"]).get("action") if not event["isBase64Encoded"] else None
        except (ValueError, AttributeError):
            action = None
        route_key = action if action in ("subscribe", "unsubscribe", "ping") else "$default"
    event["requestContext"].update(connectionId=connection_id, routeKey=route_key)
    return event


def disconnect_event(*, connection_id: str, status_code: int = 1001, reason: str = "Going away") -> dict[str, Any]:
    event = _fixture("ws_disconnect.json")
    event["requestContext"].update(
        connectionId=connection_id, disconnectStatusCode=status_code, disconnectReason=reason
    )
    return event


def sqs_event(*, bodies: list[str]) -> dict[str, Any]:
    template = _fixture("ws_push_sqs.json")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record["messageId"], record["body"] = str(uuid.uuid4()), body
        records.append(record)
    return {"Records": records}


def job_event(
    *, owner: str, job_id: uuid.UUID | None = None, seq: int = 1, result: Any = None, **extra: Any
) -> JobEvent:
    status = extra.pop("status", "succeeded" if result is not None else "running")
    return JobEvent(
        type="job.succeeded" if status == "succeeded" else "job.progress",
        job_id=job_id or uuid.uuid4(),
        owner=owner,
        seq=seq,
        task="demo.echo",
        status=status,
        progress=100 if status == "succeeded" else 50,
        result=result,
        at=dt.datetime.now(dt.UTC),
        **extra,
    )


def mint(
    *,
    user: str,
    topics: list[str] | None = None,
    audience: str = TICKET_AUDIENCE,
    key: str = TICKET_KEY,
    kid_of: str | None = None,
    ttl: int = 30,
    issued_ago: int = 0,
    **claims: Any,
) -> str:
    """A token shaped exactly like Django's ``ticket_mint`` (PyJWT, ES256, ``kid`` and ``typ`` headers)."""
    now = int(time.time()) - issued_ago
    payload = {
        "iss": ISSUER,
        "sub": user,
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "jti": secrets.token_urlsafe(24),
        "topics": topics if topics is not None else [f"user:{user}"],
        **claims,
    }
    return jwt.encode(payload, private_key(key), algorithm="ES256", headers={"kid": kid(kid_of or key), "typ": "JWT"})


def mint_grant(*, user: str, topics: list[str], **options: Any) -> str:
    return mint(user=user, topics=topics, audience=GRANT_AUDIENCE, **options)


class LambdaContextStub(LambdaContext):
    """The websocket function's Lambda context (the shared stub in infra/), with its time budget."""

    def __init__(self, *, remaining_ms: int = 30_000) -> None:
        super().__init__(function_name="polyglot-dev-websocket", timeout_seconds=remaining_ms / 1000, memory_mb=512)
