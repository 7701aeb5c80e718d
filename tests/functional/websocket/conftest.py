"""Fixtures of the websocket function's tests: a fresh connections table in moto, the signing key,
and the management-API fake, all wired through the environment exactly as on Lambda."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from functions.websocket import push
from functions.websocket.handler import handler as websocket_handler
from tests.aws import aws_client
from tests.functional.websocket.builders import (
    TICKET_KEY,
    LambdaContextStub,
    connect_event,
    message_event,
    mint,
    new_connection_id,
)
from tests.functional.websocket.management_fake import ManagementFake, management_fake
from tests.signing_keys import ISSUER, jwks_json

API_BASE_URL = "https://api.example.test"


def connections_table_create(prefix: str = "connections") -> str:
    """A fresh connections table in moto, shaped like serverless.yml's (pk, sk); returns its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    aws_client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    return name


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> str:
    name = connections_table_create()
    monkeypatch.setenv("CONNECTIONS_TABLE", name)
    return name


@pytest.fixture
def management(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementFake]:
    with management_fake() as fake:
        monkeypatch.setenv("MANAGEMENT_API_ENDPOINT", fake.url)
        yield fake


@contextmanager
def current_event_loop() -> Iterator[None]:
    """Mangum runs an invocation on asyncio's current loop, as a Lambda process always has one; an
    earlier test's ``asyncio.run`` in this process leaves none set ("no current event loop")."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture(autouse=True)
def event_loop_for_mangum() -> Iterator[None]:
    with current_event_loop():
        yield


@pytest.fixture(autouse=True)
def ws_environment(monkeypatch: pytest.MonkeyPatch, table: str, management: ManagementFake) -> Iterator[None]:
    monkeypatch.setenv("AUTH_JWKS", jwks_json(TICKET_KEY))
    monkeypatch.setenv("AUTH_ISSUER", ISSUER)
    monkeypatch.delenv("SSM_PARAMETER_PREFIX", raising=False)
    monkeypatch.setenv("API_BASE_URL", API_BASE_URL)
    monkeypatch.setenv("PUSH_CONCURRENCY", "8")
    push.reset()
    yield
    push.reset()


def items(table: str) -> list[dict[str, Any]]:
    """Every item of the table, as plain ``{attribute: value}`` dicts."""
    answer = aws_client("dynamodb").scan(TableName=table, ConsistentRead=True)
    return [{key: next(iter(value.values())) for key, value in item.items()} for item in answer["Items"]]


def keys(table: str) -> set[tuple[str, str]]:
    return {(item["pk"], item["sk"]) for item in items(table)}


def ws(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = websocket_handler(event, LambdaContextStub())
    return result


def connected(*, user: str, topics: list[str] | None = None) -> str:
    """A connection opened through $connect with a fresh ticket; its id."""
    connection_id = new_connection_id()
    answer = ws(connect_event(connection_id=connection_id, ticket=mint(user=user, topics=topics)))
    assert answer["statusCode"] == 200, answer
    return connection_id


def subscribed(*, user: str, topics: list[str]) -> str:
    connection_id = connected(user=user, topics=topics)
    for topic in topics:
        ws(message_event(connection_id=connection_id, body={"action": "subscribe", "topic": topic}))
    return connection_id
