"""$connect: a valid ticket opens a connection; every bad ticket is refused with nothing written."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest

from contracts.tickets import GRANT_AUDIENCE
from functions.websocket.config import CONNECTION_MAX_SECONDS
from tests.aws import aws_client
from tests.functional.websocket.builders import OTHER_KEY, TICKET_KEY, connect_event, mint, new_connection_id
from tests.functional.websocket.conftest import current_event_loop, items, keys, ws
from tests.functional.websocket.management_fake import ManagementFake
from tests.signing_keys import ISSUER, jwks_json, kid


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
    assert ("user#7", f"conn#{connection_id}") in stored  # found again when the user is deactivated
    # Subscribing is the client's move; and $connect never posts to its own connection (AWS gives 410).
    assert not any(pk.startswith("topic#") for pk, _ in stored)
    assert management.attempts == {}


def _alg_none(user: str) -> str:
    return jwt.encode(
        {
            "iss": ISSUER,
            "sub": user,
            "aud": "ws",
            "iat": int(time.time()),
            "exp": int(time.time()) + 30,
            "jti": "x" * 32,
            "topics": [],
        },
        key=None,
        algorithm="none",
        headers={"kid": kid(TICKET_KEY)},
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
    "wrong issuer": (lambda: mint(user="1", iss="https://other.example"), 401, "ticket_wrong_issuer"),
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


def test_every_key_of_the_jwks_verifies_during_a_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.websocket import deps

    monkeypatch.setenv("AUTH_JWKS", jwks_json(OTHER_KEY, TICKET_KEY))
    deps.reset()

    assert ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1")))["statusCode"] == 200
    assert (
        ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1", key=OTHER_KEY)))["statusCode"] == 200
    )


def test_a_ticket_minted_by_django_is_accepted(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    from django_app.accounts.signing_keys import keyring
    from django_app.accounts.tickets import ticket_mint
    from functions.websocket import deps

    monkeypatch.setenv("AUTH_JWKS", json.dumps(keyring().jwks()))  # Django's JWKS alone
    deps.reset()

    ticket, claims = ticket_mint(user_id=42)  # signed with the test run's AUTH_SIGNING_KEY
    connection_id = new_connection_id()

    assert ws(connect_event(connection_id=connection_id, ticket=ticket))["statusCode"] == 200
    assert (f"conn#{connection_id}", "meta") in keys(table)
    assert (f"ticket#{claims.jti}", "ticket") in keys(table)


def test_the_jwks_can_come_from_ssm_and_a_new_key_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.websocket import deps, tickets

    prefix = f"/polyglot/test-{new_connection_id()[:6].lower()}"
    ssm = aws_client("ssm")
    ssm.put_parameter(Name=f"{prefix}/auth-jwks", Value=jwks_json(TICKET_KEY), Type="String")
    monkeypatch.delenv("AUTH_JWKS")
    monkeypatch.setenv("SSM_PARAMETER_PREFIX", prefix)
    monkeypatch.setattr(tickets, "JWKS_RELOAD_COOLDOWN_SECONDS", 0.0)
    deps.reset()

    assert ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1")))["statusCode"] == 200
    # A rotation publishes the next key: this warm container reads the parameter again for it.
    ssm.put_parameter(Name=f"{prefix}/auth-jwks", Value=jwks_json(TICKET_KEY, OTHER_KEY), Type="String", Overwrite=True)
    ticket = mint(user="1", key=OTHER_KEY)
    assert ws(connect_event(connection_id=new_connection_id(), ticket=ticket))["statusCode"] == 200


def test_a_deactivated_users_ticket_cannot_connect_while_blocked(table: str) -> None:
    from functions.websocket import deps

    ticket = mint(user="9")
    deps.store().user_block(user="9", until=int(time.time()) + 60)

    answer = ws(connect_event(connection_id=new_connection_id(), ticket=ticket))

    assert answer["statusCode"] == 403
    assert json.loads(answer["body"])["error"]["code"] == "user_inactive"
    assert {pk for pk, _ in keys(table)} == {"block#user#9"}


def test_an_expired_block_is_no_block(table: str) -> None:
    from functions.websocket import deps

    deps.store().user_block(user="9", until=int(time.time()) - 1)  # DynamoDB's TTL has not deleted it yet

    assert ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="9")))["statusCode"] == 200


def test_a_missing_jwks_refuses_with_503_not_a_crash(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    from functions.websocket import deps

    monkeypatch.delenv("AUTH_JWKS")
    deps.reset()

    answer = ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1")))

    assert answer["statusCode"] == 503
    assert json.loads(answer["body"])["error"]["code"] == "unavailable"
    assert items(table) == []


def test_an_unreachable_store_refuses_with_503(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.websocket import deps

    monkeypatch.setenv("CONNECTIONS_TABLE", "no-such-table")
    deps.reset()

    answer = ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="1")))

    assert answer["statusCode"] == 503
    assert json.loads(answer["body"])["error"]["code"] == "unavailable"


def test_five_concurrent_uses_of_one_ticket_open_exactly_one_connection(table: str) -> None:
    ticket = mint(user="3")
    barrier = threading.Barrier(5)

    def use(_: int) -> int:
        barrier.wait(timeout=10)
        with current_event_loop():  # each thread is its own Lambda container
            return int(ws(connect_event(connection_id=new_connection_id(), ticket=ticket))["statusCode"])

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(pool.map(use, range(5)))

    assert statuses == [200, 403, 403, 403, 403]
    assert sum(1 for pk, sk in keys(table) if sk == "meta") == 1


@pytest.mark.django_db
def test_a_ticket_is_redeemed_in_one_place_only(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    """Introspection never answers for a ticket, before or after $connect used it: one ticket, one use."""
    from rest_framework.test import APIClient

    from django_app.accounts.service_credentials import service_credential_create
    from django_app.accounts.signing_keys import keyring
    from django_app.accounts.tickets import ticket_mint
    from functions.websocket import deps

    monkeypatch.setenv("AUTH_JWKS", json.dumps(keyring().jwks()))
    deps.reset()
    service = APIClient()
    service.credentials(
        HTTP_AUTHORIZATION=f"Bearer {service_credential_create(service='webhooks', permissions=['introspect'])[1]}"
    )

    def introspect(token: str) -> dict[str, Any]:
        answer: dict[str, Any] = service.post("/api/auth/introspect/", {"token": token}, format="json").json()
        return answer

    introspected_first, _ = ticket_mint(user_id=8)
    assert introspect(introspected_first) == {"active": False}
    assert ws(connect_event(connection_id=new_connection_id(), ticket=introspected_first))["statusCode"] == 200

    connected_first, _ = ticket_mint(user_id=8)
    assert ws(connect_event(connection_id=new_connection_id(), ticket=connected_first))["statusCode"] == 200
    assert introspect(connected_first) == {"active": False}
    again = ws(connect_event(connection_id=new_connection_id(), ticket=connected_first))
    assert json.loads(again["body"])["error"]["code"] == "ticket_replayed"
