"""API Gateway WebSocket semantics of the local gateway: a refused ``$connect`` refuses the
handshake with its status, oversized messages close with 1009, idle and too-old connections are
closed (1001) and ``$disconnect`` follows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from infra.local.stack import LocalStack
from tests.integration.local_stack.client import WAIT_SECONDS, Api, connect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def short_lived_stack() -> Iterator[LocalStack]:
    with LocalStack(idle_timeout=1.5, max_connection_seconds=4) as stack:
        yield stack


async def _closed_code(ws: websockets.ClientConnection, *, keep_talking: bool) -> int:
    for _ in range(int(WAIT_SECONDS * 2)):  # bounded: a frame every 0.5 s at most
        try:
            if keep_talking:
                await ws.send(json.dumps({"action": "ping", "id": "keep"}))
            await asyncio.wait_for(ws.recv(), 0.5)
        except TimeoutError:
            continue
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else -1
    raise AssertionError("the gateway never closed the connection")


def test_refused_connect_refuses_the_handshake_with_its_status(local_stack: LocalStack) -> None:
    async def attempt(url: str) -> int:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(url, open_timeout=WAIT_SECONDS)
        body = json.loads(refused.value.response.body or b"{}")
        assert body["error"]["code"] in ("ticket_missing", "ticket_malformed")
        return refused.value.response.status_code

    assert asyncio.run(attempt(local_stack.ws_url)) == 401
    assert asyncio.run(attempt(f"{local_stack.ws_url}?ticket=not-a-ticket")) == 401


def test_a_message_over_128_kb_closes_with_1009(local_stack: LocalStack) -> None:
    api = Api(local_stack, local_stack.create_token())

    async def scenario() -> int:
        ws = await connect(api)
        await ws.send("x" * (128 * 1024 + 1))
        return await _closed_code(ws, keep_talking=False)

    assert asyncio.run(scenario()) == 1009


def test_idle_connections_are_closed_and_disconnected(short_lived_stack: LocalStack) -> None:
    api = Api(short_lived_stack, short_lived_stack.create_token())

    async def scenario() -> int:
        return await _closed_code(await connect(api), keep_talking=False)

    assert asyncio.run(scenario()) == 1001
    short_lived_stack.wait_for_log(r"INVOKE ws \$disconnect ok")


def test_connections_end_at_the_maximum_connection_time(short_lived_stack: LocalStack) -> None:
    api = Api(short_lived_stack, short_lived_stack.create_token())

    async def scenario() -> tuple[int, int]:
        ws = await connect(api)
        pongs = 0
        for _ in range(int(WAIT_SECONDS * 2)):  # bounded: a ping every 0.5 s
            try:
                await ws.send(json.dumps({"action": "ping", "id": "p"}))
                if json.loads(await asyncio.wait_for(ws.recv(), 0.5)).get("type") == "pong":
                    pongs += 1
                await asyncio.sleep(0.3)
            except TimeoutError:
                continue
            except ConnectionClosed as closed:
                return (closed.rcvd.code if closed.rcvd is not None else -1), pongs
        raise AssertionError("never closed")

    code, pongs = asyncio.run(scenario())
    assert code == 1001
    assert pongs >= 2  # it was active all along: the idle timeout did not close it


def test_a_deeply_nested_frame_gets_an_invalid_json_reply(local_stack: LocalStack) -> None:
    """Route selection sends it to $default, as any non-JSON frame (it used to be dropped)."""
    api = Api(local_stack, local_stack.create_token())
    nested = "[" * 3_000 + "]" * 3_000  # under the 8 KB frame limit, past what json can parse

    async def scenario() -> dict[str, object]:
        ws = await connect(api)
        try:
            await ws.send(nested)
            reply: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), WAIT_SECONDS))
            return reply
        finally:
            await ws.close()

    reply = asyncio.run(scenario())
    assert reply["type"] == "error"
    assert reply["code"] == "invalid_json"
