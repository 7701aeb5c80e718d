"""$connect: a valid ticket opens a connection; every bad ticket is refused with nothing written."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest

from contracts.tickets import GRANT_AUDIENCE
from functions.websocket.config import CONNECTION_MAX_SECONDS
from functions.websocket.tickets import key_id
from tests.aws import aws_client
from tests.functional.websocket.builders import OTHER_KEY, TICKET_KEY, connect_event, mint, new_connection_id
from tests.functional.websocket.conftest import items, keys, ws
from tests.functional.websocket.management_fake import ManagementFake


def test_a_valid_ticket_opens_the_connection(table: str, management: ManagementFake) -> None:
    connection_id = new_connection_id()
    job_topic = "job:2f1c9d4e-8a7b-4c3d-9e2f-1a0b9c8d7e6f"
    answer = ws(connect_event(connection_id=connection_id, ticket=mint(user="7", topics=["user:7", job_topic])))

    assert answer["statusCode"] == 200
    stored = {(item["pk"], item["sk"]): item for item in items(table)}
    meta = stored[(f"conn#{connection_id}", "meta")]
    assert meta["user"] == "7"
    assert [topic["S"] for topic in meta["topics"]] == ["user:7", job_topic]
    # Expires a little after API Gateway's 2-hour cap, not before.
    assert int(meta["expires_at"]) > int(meta["connected_at"]) + CONNECTION_MAX_SECONDS
    assert int(meta["expires_at"]) < int(meta["connected_at"]) + CONNECTION_MAX_SECONDS + 3600
    assert sum(1 for pk, _ in stored if pk.startswith("ticket#")) == 1
    # Subscribing is the client's move; and $connect never posts to its own connection (AWS gives 410).
    assert not any(pk.startswith("topic#") for pk, _ in stored)
    assert management.attempts == {}


def _alg_none(user: str) -> str:
    return jwt.encode(
        {
            "sub": user,
            "aud": "ws",
            "iat": int(time.time()),
            "exp": int(time.time()) + 30,
            "jti": "x" * 32,
            "topics": [],
        },
        key=None,
        algorithm="none",
        headers={"kid": key_id(TICKET_KEY)},
    )


BAD_TICKETS: dict[str, tuple[Any, int, str]] = {
    "missing": (lambda: None, 401, "ticket_missing"),
    "empty": (lambda: "", 401, "ticket_missing"),
    "not a jwt": (lambda: "hello", 401, "ticket_malformed"),
    "garbage segments": (lambda: "a.b.c", 401, "ticket_malformed"),
    "alg none": (lambda: _alg_none("1"), 401, "ticket_malformed"),
    "bad signature": (lambda: mint(user="1", key=OTHER_KEY, kid_of=TICKET_KEY), 401, "ticket_bad_signature"),
    "unknown key": (lambda: mint(user="1", key=OTHER_KEY), 401, "ticket_unknown_key"),
    "expired": (lambda: mint(user="1", ttl=30, issued_ago=31), 401, "ticket_expired"),
    "wrong audience": (lambda: mint(user="1", audience=GRANT_AUDIENCE), 401, "ticket_wrong_audience"),
    "too long-lived": (lambda: mint(user="1", ttl=3600), 401, "ticket_malformed"),
    "malformed topic": (lambda: mint(user="1", topics=["user:1", "admin:*"]), 401, "ticket_malformed"),
    "topic of another user": (lambda: mint(user="1", topics=["user:1", "user:2"]), 403, "ticket_topics_invalid"),
    "short jti": (lambda: mint(user="1", jti="abc"), 401, "ticket_malformed"),
    "oversized": (lambda: mint(user="1", padding="x" * 5000), 401, "ticket_malformed"),
}


@pytest.mark.parametrize("case", BAD_TICKETS)
def test_a_bad_ticket_is_refused_and_nothing_is_written(case: str, table: str) -> None:
    make, status, code = BAD_TICKETS[case]
    answer = ws(connect_event(connection_id=new_connection_id(), ticket=make()))

    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["error"]["code"] == code
    assert items(table) == []


def test_a_ticket_works_once(table: str) -> None:
    ticket = mint(user="1")
    first, second = new_connection_id(), new_connection_id()
    assert ws(connect_event(connection_id=first, ticket=ticket))["statusCode"] == 200
    before = keys(table)

    replay = ws(connect_event(connection_id=second, ticket=ticket))

    assert replay["statusCode"] == 403
    assert json.loads(replay["body"])["error"]["code"] == "ticket_replayed"
    assert keys(table) == before
    assert not any(second in pk for pk, _ in before)


def test_a_connect_retried_after_its_transaction_went_through_is_not_a_replay(table: str) -> None:
    # The store's transaction timed out on the client but was applied (seen in the soak under load):
    # the retry of the same $connect, same connection id, must succeed, not refuse the ticket.
    ticket = mint(user="1")
    connection_id = new_connection_id()
    assert ws(connect_event(connection_id=connection_id, ticket=ticket))["statusCode"] == 200
    before = keys(table)

    again = ws(connect_event(connection_id=connection_id, ticket=ticket))

    assert again["statusCode"] == 200
    assert keys(table) == before


def test_the_previous_key_still_verifies_during_a_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.websocket import deps

    monkeypatch.setenv("TICKET_SIGNING_KEY", OTHER_KEY)
    monkeypatch.setenv("TICKET_SIGNING_KEY_PREVIOUS", TICKET_KEY)
    deps.reset()

    assert ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1")))["statusCode"] == 200
    assert (
        ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1", key=OTHER_KEY)))["statusCode"] == 200
    )


def test_a_ticket_minted_by_django_is_accepted(settings: Any, table: str) -> None:
    from django_app.accounts.tickets import ticket_mint

    settings.TICKET_SIGNING_KEY = TICKET_KEY
    ticket, claims = ticket_mint(user_id=42)
    connection_id = new_connection_id()

    assert ws(connect_event(connection_id=connection_id, ticket=ticket))["statusCode"] == 200
    assert (f"conn#{connection_id}", "meta") in keys(table)
    assert (f"ticket#{claims.jti}", "ticket") in keys(table)


def test_keys_can_come_from_ssm(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.websocket import deps

    prefix = f"/polyglot/test-{new_connection_id()[:6].lower()}"
    aws_client("ssm").put_parameter(Name=f"{prefix}/ticket-signing-key", Value=TICKET_KEY, Type="SecureString")
    monkeypatch.delenv("TICKET_SIGNING_KEY")
    monkeypatch.setenv("SSM_PARAMETER_PREFIX", prefix)
    deps.reset()

    assert ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1")))["statusCode"] == 200


def test_an_unreachable_store_refuses_with_503(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.websocket import deps

    monkeypatch.setenv("CONNECTIONS_TABLE", "no-such-table")
    deps.reset()

    answer = ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1")))

    assert answer["statusCode"] == 503
    assert json.loads(answer["body"])["error"]["code"] == "unavailable"
