"""The local WebSocket gateway's route selection: like API Gateway, any frame it cannot read as
JSON goes to $default (issue 17, finding 3: deeply nested JSON used to raise and be dropped)."""

from __future__ import annotations

import pytest

from infra.local.ws_gateway import select_route

ROUTES = {"$default": "websocket", "ping": "websocket", "subscribe": "websocket"}
EXPRESSION = "$request.body.action"


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ('{"action": "ping"}', "ping"),
        ('{"action": "nope"}', "$default"),
        ("not json", "$default"),
        (b'{"action": "ping"}', "$default"),  # binary frames have no body to select on
        ("[" * 15_000 + "]" * 15_000, "$default"),
        ('{"action": ' + '{"a": ' * 15_000 + "1" + "}" * 15_001, "$default"),
    ],
)
def test_route_selection(body: str | bytes, route: str) -> None:
    assert select_route(EXPRESSION, body, ROUTES) == route


def test_without_a_default_route_an_unreadable_frame_has_none() -> None:
    assert select_route(EXPRESSION, "[" * 15_000, {"ping": "websocket"}) is None
