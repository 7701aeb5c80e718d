"""Messages: subscribe / unsubscribe / ping, answered through the management API; bad frames get an
``error`` with a code, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.ws_protocol import MAX_CLIENT_FRAME_BYTES
from tests.functional.websocket.builders import (
    OTHER_KEY,
    TICKET_KEY,
    message_event,
    mint,
    mint_grant,
    new_connection_id,
)
from tests.functional.websocket.conftest import connected, keys, ws
from tests.functional.websocket.management_fake import ManagementFake

JOB = "job:2f1c9d4e-8a7b-4c3d-9e2f-1a0b9c8d7e6f"
OTHER_JOB = "job:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def send(connection_id: str, body: str | dict[str, Any], **options: Any) -> dict[str, Any]:
    answer = ws(message_event(connection_id=connection_id, body=body, **options))
    assert answer["statusCode"] == 200  # the reply went through the management API, not here
    return answer


def last_frame(management: ManagementFake, connection_id: str) -> dict[str, Any]:
    frames = management.frames(connection_id)
    assert len(frames) >= 1
    return frames[-1]


def subscriptions(table: str, connection_id: str) -> set[tuple[str, str]]:
    return {key for key in keys(table) if key[0].startswith("topic#") or key[1].startswith("topic#")} & {
        key for key in keys(table) if connection_id in key[0] or connection_id in key[1]
    }


def test_message_events_carry_no_headers_and_still_work(management: ManagementFake) -> None:
    connection_id = connected(user="1")
    event = message_event(connection_id=connection_id, body={"action": "ping", "id": "p1"})
    assert "headers" not in event
    assert "multiValueHeaders" not in event

    ws(event)

    assert last_frame(management, connection_id) == {"type": "pong", "id": "p1"}


def test_subscribing_to_a_granted_topic(table: str, management: ManagementFake) -> None:
    connection_id = connected(user="1", topics=["user:1", JOB])

    send(connection_id, {"action": "subscribe", "topic": JOB})

    assert last_frame(management, connection_id) == {"type": "subscribed", "topic": JOB}
    assert subscriptions(table, connection_id) == {
        (f"conn#{connection_id}", f"topic#{JOB}"),
        (f"topic#{JOB}", f"conn#{connection_id}"),
    }


def test_a_topic_the_ticket_did_not_grant_is_refused(table: str, management: ManagementFake) -> None:
    connection_id = connected(user="1")

    send(connection_id, {"action": "subscribe", "topic": "user:2"})
    send(connection_id, {"action": "subscribe", "topic": JOB})

    assert [frame["code"] for frame in management.frames(connection_id)] == ["topic_not_granted"] * 2
    assert subscriptions(table, connection_id) == set()


def test_a_fresh_grant_covers_a_topic_the_ticket_lacked(table: str, management: ManagementFake) -> None:
    connection_id = connected(user="1")

    send(connection_id, {"action": "subscribe", "topic": JOB, "grant": mint_grant(user="1", topics=[JOB])})

    assert last_frame(management, connection_id) == {"type": "subscribed", "topic": JOB}
    assert (f"topic#{JOB}", f"conn#{connection_id}") in keys(table)


BAD_GRANTS: dict[str, tuple[Any, str]] = {
    "another user's grant": (lambda: mint_grant(user="2", topics=[JOB]), "grant_invalid"),
    "expired": (lambda: mint_grant(user="1", topics=[JOB], issued_ago=31), "grant_invalid"),
    "a ticket, not a grant": (lambda: mint(user="1", topics=[JOB]), "grant_invalid"),
    "bad signature": (lambda: mint_grant(user="1", topics=[JOB], key=OTHER_KEY, kid_of=TICKET_KEY), "grant_invalid"),
    "for another topic": (lambda: mint_grant(user="1", topics=[OTHER_JOB]), "topic_not_granted"),
    "garbage": (lambda: "not-a-token", "grant_invalid"),
}


@pytest.mark.parametrize("case", BAD_GRANTS)
def test_a_bad_grant_subscribes_nothing(case: str, table: str, management: ManagementFake) -> None:
    make, code = BAD_GRANTS[case]
    connection_id = connected(user="1")

    send(connection_id, {"action": "subscribe", "topic": JOB, "grant": make()})

    assert last_frame(management, connection_id)["code"] == code
    assert subscriptions(table, connection_id) == set()


def test_unsubscribing_removes_both_keys(table: str, management: ManagementFake) -> None:
    connection_id = connected(user="1")
    send(connection_id, {"action": "subscribe", "topic": "user:1"})

    send(connection_id, {"action": "unsubscribe", "topic": "user:1"})

    assert last_frame(management, connection_id) == {"type": "unsubscribed", "topic": "user:1"}
    assert subscriptions(table, connection_id) == set()
    assert (f"conn#{connection_id}", "meta") in keys(table)


BAD_FRAMES: dict[str, tuple[dict[str, Any], str]] = {
    "not json": ({"body": "hello"}, "invalid_json"),
    "a json array": ({"body": "[1, 2]"}, "invalid_json"),
    "binary": ({"body": "", "base64_body": b"\x00\x01\x02"}, "invalid_json"),
    "no action": ({"body": {"topic": "user:1"}}, "invalid_message"),
    "action not a string": ({"body": {"action": 3}}, "invalid_message"),
    "unknown action": ({"body": {"action": "publish", "topic": "user:1"}}, "unknown_action"),
    "missing topic": ({"body": {"action": "subscribe"}}, "invalid_message"),
    "extra field": ({"body": {"action": "ping", "admin": True}}, "invalid_message"),
    "oversized": ({"body": {"action": "ping", "id": "x" * MAX_CLIENT_FRAME_BYTES}}, "frame_too_large"),
    "json on a custom route": ({"body": "{oops", "route_key": "subscribe"}, "invalid_json"),
}


@pytest.mark.parametrize("case", BAD_FRAMES)
def test_a_bad_frame_gets_an_error_reply(case: str, table: str, management: ManagementFake) -> None:
    options, code = BAD_FRAMES[case]
    connection_id = connected(user="1")
    before = keys(table)

    send(connection_id, **options)

    frame = last_frame(management, connection_id)
    assert frame["type"] == "error"
    assert frame["code"] == code
    assert keys(table) == before


def test_a_connection_the_store_forgot_is_told_to_reconnect(management: ManagementFake) -> None:
    connection_id = new_connection_id()

    send(connection_id, {"action": "subscribe", "topic": "user:1"})

    assert last_frame(management, connection_id)["code"] == "not_connected"


def test_a_reply_to_a_gone_connection_forgets_it(table: str, management: ManagementFake) -> None:
    connection_id = connected(user="1")
    send(connection_id, {"action": "subscribe", "topic": "user:1"})
    management.script.gone.add(connection_id)

    send(connection_id, {"action": "ping"})

    assert not any(connection_id in pk or connection_id in sk for pk, sk in keys(table))


def test_a_throttled_reply_is_retried(management: ManagementFake) -> None:
    connection_id = connected(user="1")
    management.script.throttle[connection_id] = 2

    send(connection_id, {"action": "ping", "id": "again"})

    assert management.frames(connection_id) == [{"type": "pong", "id": "again"}]
    assert management.attempts[connection_id] == 3


def test_a_reply_throttled_past_the_retries_is_given_up_and_the_request_still_answers(
    management: ManagementFake,
) -> None:
    """Five tries, then the reply is dropped (the client re-subscribes when no ``subscribed`` comes)."""
    connection_id = connected(user="1")
    management.script.throttle[connection_id] = 5

    response = send(connection_id, {"action": "subscribe", "topic": "user:1"})

    assert response["statusCode"] == 200
    assert management.frames(connection_id) == []
    assert management.attempts[connection_id] == 5
