"""$disconnect removes the connection and its subscriptions, and is harmless when repeated."""

from __future__ import annotations

from tests.functional.websocket.builders import disconnect_event, new_connection_id
from tests.functional.websocket.conftest import keys, subscribed, ws

JOB = "job:2f1c9d4e-8a7b-4c3d-9e2f-1a0b9c8d7e6f"


def test_disconnect_removes_the_connection_and_its_subscriptions(table: str) -> None:
    leaving = subscribed(user="1", topics=["user:1", JOB])
    staying = subscribed(user="1", topics=["user:1"])

    answer = ws(disconnect_event(connection_id=leaving, status_code=1006, reason="Going away"))

    assert answer["statusCode"] == 200
    remaining = keys(table)
    assert not any(leaving in pk or leaving in sk for pk, sk in remaining)
    assert ("topic#user:1", f"conn#{staying}") in remaining
    assert (f"conn#{staying}", "meta") in remaining
    # The used tickets stay until their TTL: a replay after disconnecting is still a replay.
    assert sum(1 for pk, _ in remaining if pk.startswith("ticket#")) == 2


def test_disconnect_of_an_unknown_connection_is_fine(table: str) -> None:
    before = keys(table)

    assert ws(disconnect_event(connection_id=new_connection_id()))["statusCode"] == 200
    assert keys(table) == before
