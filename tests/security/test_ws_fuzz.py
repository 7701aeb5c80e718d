"""Fuzzing the websocket function's MESSAGE routes with arbitrary frames.

Each frame goes through the real Lambda entry point (Mangum, API Gateway WebSocket MESSAGE events of
the real shape, routed as API Gateway's ``$request.body.action`` would), on one connection opened
with a real ticket, against moto's DynamoDB and the management-API fake.

Property: every frame is answered with exactly one frame that fits ``ws_server_message.json`` —
the reply its action asks for, or an ``error`` with a code other than ``internal`` (a bug) — and
the function never raises nor answers a 5xx.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from contracts.ws_protocol import MAX_CLIENT_FRAME_BYTES
from functions.websocket import push
from tests.aws import aws_client
from tests.functional.websocket.builders import TICKET_KEY, message_event, mint, mint_grant
from tests.functional.websocket.conftest import connected, connections_table_create, current_event_loop, ws
from tests.functional.websocket.management_fake import ManagementFake, management_fake
from tests.security.fuzzing import FUZZ
from tests.signing_keys import ISSUER, jwks_json

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "contracts" / "schemas" / "ws_server_message.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
USER = "7"
JOB = f"job:{uuid.UUID(int=7)}"
OTHER_JOB = f"job:{uuid.UUID(int=8)}"
ROUTES = ("subscribe", "unsubscribe", "ping")
REPLY_TYPE = {"subscribe": "subscribed", "unsubscribe": "unsubscribed", "ping": "pong"}


@dataclass
class Connection:
    connection_id: str
    management: ManagementFake

    def sent(self) -> int:
        with self.management.lock:
            return len(self.management.received.get(self.connection_id, []))

    def last(self) -> bytes:
        with self.management.lock:
            return self.management.received[self.connection_id][-1]


@pytest.fixture(scope="module", autouse=True)
def event_loop_for_mangum() -> Iterator[None]:
    with current_event_loop():
        yield


@pytest.fixture(scope="module")
def connection(event_loop_for_mangum: None) -> Iterator[Connection]:
    """One connection for every example: a table, the management fake and the environment the
    websocket tests use (tests/functional/websocket/conftest.py), module-scoped so that Hypothesis
    reuses them."""
    table = connections_table_create("connections-fuzz")
    dynamodb = aws_client("dynamodb")
    with management_fake() as management, pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONNECTIONS_TABLE", table)
        patch.setenv("MANAGEMENT_API_ENDPOINT", management.url)
        patch.setenv("AUTH_JWKS", jwks_json(TICKET_KEY))
        patch.setenv("AUTH_ISSUER", ISSUER)
        patch.delenv("SSM_PARAMETER_PREFIX", raising=False)
        patch.setenv("API_BASE_URL", "https://api.example.test")
        patch.setenv("PUSH_CONCURRENCY", "8")
        push.reset()
        try:
            yield Connection(connected(user=USER, topics=[f"user:{USER}", JOB]), management)
        finally:
            push.reset()
            dynamodb.delete_table(TableName=table)


def route_of(body: str) -> str:
    """The route API Gateway selects with ``$request.body.action``; ``$default`` when there is none."""
    try:
        action = json.loads(body).get("action")
    except Exception:  # not JSON, not an object, too deep: API Gateway falls back to $default
        return "$default"
    return action if action in ROUTES else "$default"


# -- frames -----------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
any_json = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=20,
)
# Strings a client can send inside JSON text: anything, lone surrogates (as \\ud800 escapes), NUL,
# right-to-left marks, combining characters, emoji, and sizes around the limits of each field.
odd_strings = st.one_of(
    st.text(max_size=80),
    st.text(st.characters(codec=None, categories=["Cs"]), min_size=1, max_size=3),
    st.sampled_from(["", "\x00", "\u202e", "e\u0301", "🚀", "user:7\n", " user:7", "USER:7", "job:*", "user:*"]),
    st.sampled_from([JOB, OTHER_JOB, f"user:{USER}", "user:8"]),
    st.integers(60, 70).map(lambda size: "j" * size),  # around the 64-character topic and id limits
    st.integers(2000, 2100).map(lambda size: "g" * size),  # around the 2048-character grant limit
    st.integers(MAX_CLIENT_FRAME_BYTES - 64, MAX_CLIENT_FRAME_BYTES + 64).map(lambda size: "x" * size),
)
odd_values = st.one_of(odd_strings, json_scalars, any_json)
grants = st.one_of(
    st.builds(lambda: mint_grant(user=USER, topics=[OTHER_JOB])),
    st.builds(lambda: mint_grant(user=USER, topics=[OTHER_JOB])),
    st.builds(lambda: mint_grant(user="8", topics=[OTHER_JOB])),
    st.builds(lambda: mint(user=USER, topics=[OTHER_JOB])),
    odd_values,
)


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A protocol message, often valid; else with fields of the wrong type, size or shape, or extra."""

    def sometimes(odds: int, usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> Any:
        return draw(usual) if draw(st.integers(0, odds)) else draw(odd)

    odd_actions = st.one_of(st.sampled_from(["", "PING", "publish", "$default", "ping "]), odd_values)
    action = sometimes(4, st.sampled_from(ROUTES), odd_actions)
    message: dict[str, Any] = {"action": action}
    misfit = draw(st.integers(0, 3)) == 0  # fields another action takes
    if action in ("subscribe", "unsubscribe") or misfit:
        message["topic"] = sometimes(2, st.sampled_from([JOB, OTHER_JOB, f"user:{USER}", "user:8"]), odd_values)
    if action == "ping" or misfit:
        message["id"] = sometimes(2, st.text(max_size=64), odd_values)
    if (action == "subscribe" and draw(st.booleans())) or misfit:
        message["grant"] = draw(grants)
    if draw(st.integers(0, 5)) == 0:
        message.update(draw(st.dictionaries(st.text(max_size=12), odd_values, max_size=3)))
    return message


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return '{"action": "ping", "id": ' + "[" * depth + "]" * depth + "}"


text_frames = st.one_of(
    st.text(max_size=300),
    any_json.map(json.dumps),
    near_valid().map(json.dumps),  # ensure_ascii: lone surrogates arrive as escapes, as from a browser
    near_valid()
    .map(lambda message: json.dumps(message, ensure_ascii=False, allow_nan=True))
    .filter(lambda text: not any("\ud800" <= char <= "\udfff" for char in text)),
    st.builds(nested, st.integers(1, 4000), st.sampled_from(["array", "object", "ping"])),
    st.sampled_from(
        [
            '{"action": "ping", "id": NaN}',
            '{"action": "ping", "id": Infinity}',
            '{"action": "ping", "id": 1e400}',
            '{"action": "ping", "id": ' + "9" * 5000 + "}",
            '{"action": "ping", "action": "subscribe"}',
            '{"action": "subscribe", "topic": "' + JOB + '", "topic": "user:8"}',
            '{"action": "ping"',
            '{"action": "\\ud800"}',
            '{"action": "ping", "id": "\\udfff\\ud800"}',
            '{"action": "unsubscribe", "topic": "\\ud83d"}',
            '\ufeff{"action": "ping"}',
            '{"action": "ping"}\x00',
            "null",
            "",
        ]
    ),
)


@st.composite
def frames(draw: st.DrawFn) -> dict[str, Any]:
    """Options for ``message_event``: a text frame, or a binary one (base64, as API Gateway sends)."""
    if draw(st.integers(0, 9)) == 0:
        return {"body": "", "base64_body": draw(st.binary(max_size=300)), "route_key": "$default"}
    body = draw(text_frames)
    route = route_of(body) if draw(st.integers(0, 9)) else draw(st.sampled_from([*ROUTES, "$default"]))
    return {"body": body, "route_key": route}


# -- the property -----------------------------------------------------------------------------


def expected_reply(options: dict[str, Any]) -> str | None:
    """The reply type a well-formed frame asks for; None when an error is as good an answer."""
    try:
        message = json.loads(options["body"])
    except Exception:
        return None
    if isinstance(message, dict) and message.get("action") == "ping" and set(message) == {"action"}:
        return "pong"
    return None


@settings(FUZZ, max_examples=200)
@given(frames())
def test_every_frame_gets_one_well_formed_reply(connection: Connection, options: dict[str, Any]) -> None:
    before = connection.sent()

    answer = ws(message_event(connection_id=connection.connection_id, **options))

    assert answer["statusCode"] == 200, answer
    assert connection.sent() == before + 1, "no reply, or more than one"
    reply = json.loads(connection.last())
    VALIDATOR.validate(reply)
    event(f"reply: {reply['type']} {reply.get('code', '')}".strip())
    assert reply["type"] in {"error", *REPLY_TYPE.values()}
    if reply["type"] == "error":
        assert reply["code"] != "internal", (options, reply)
    if expected_reply(options) is not None:
        assert reply["type"] == expected_reply(options)


# -- regressions, found by the test above, and what it checks that already held ---------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # json.loads raises RecursionError, not ValueError, past ~1000 levels: the reply was `internal`.
        pytest.param("[" * 3000 + "]" * 3000, "invalid_json", id="nested arrays"),
        pytest.param('{"action": "ping", "id": ' + "[" * 3000 + "]" * 3000 + "}", "invalid_json", id="nested id"),
        # Already refused (pydantic's string_unicode): a reply echoing them could not be encoded.
        pytest.param('{"action": "ping", "id": "\\ud800"}', "invalid_message", id="lone surrogate in ping id"),
        pytest.param('{"action": "unsubscribe", "topic": "\\udfff"}', "invalid_message", id="lone surrogate topic"),
        pytest.param('{"action": "subscribe", "topic": "\\ud83d"}', "invalid_message", id="lone surrogate subscribe"),
    ],
)
def test_hostile_frames_get_an_error(connection: Connection, body: str, code: str) -> None:
    answer = ws(message_event(connection_id=connection.connection_id, body=body, route_key=route_of(body)))

    assert answer["statusCode"] == 200
    reply = json.loads(connection.last())
    VALIDATOR.validate(reply)
    assert (reply["type"], reply["code"]) == ("error", code)
