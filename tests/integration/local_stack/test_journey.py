"""A user's journey through the running stack: HTTP submit with a token → job events over a real
WebSocket → the result, and the correlation id followed through the log stream."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import websockets

from infra.local.stack import LocalStack
from tests.integration.local_stack.client import Api, connect, events_until_terminal, subscribe

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(local_stack: LocalStack) -> Api:
    return Api(local_stack, local_stack.create_token())


def shown(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a client displays: it drops any event whose seq is not above the highest seen so far."""
    kept: list[dict[str, Any]] = []
    for event in events:
        if not kept or event["seq"] > kept[-1]["seq"]:
            kept.append(event)
    return kept


def _submit_and_follow(
    api: Api, task: str, params: dict[str, Any], correlation_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    async def journey() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ws = await connect(api)
        try:
            topics = api.ticket()["topics"]
            user_topic = next(topic for topic in topics if topic.startswith("user:"))
            await subscribe(ws, user_topic)  # subscribe first, then submit: no event can be missed
            status, job = api.call(
                "POST", "/api/jobs/", {"task": task, "params": params}, correlation_id=correlation_id
            )
            assert status == 202, job
            return job, await events_until_terminal(ws, job["id"])
        finally:
            await ws.close()

    return asyncio.run(journey())


def test_word_count_result_arrives_over_the_websocket(api: Api, local_stack: LocalStack) -> None:
    correlation_id = f"it-{uuid.uuid4().hex[:8]}"
    job, events = _submit_and_follow(api, "word_count", {"text": "to be or not to be"}, correlation_id)

    final = events[-1]
    assert final["status"] == "succeeded"
    assert final["result"]["words"] == 6
    assert {"word": "to", "count": 2} in final["result"]["top"]
    # Delivery order is not guaranteed (two push batches may overtake each other, as on AWS); the
    # terminal event is the job's last change, so it carries the highest seq.
    assert final["seq"] == max(event["seq"] for event in events)
    status, stored = api.call("GET", f"/api/jobs/{job['id']}/")
    assert status == 200
    assert stored["status"] == "succeeded"
    # The correlation id follows the job: HTTP → worker → push, in the one log stream.
    for function in ("polyglot-local", "worker", "push"):
        local_stack.wait_for_log(rf"^\S+ {function}\s+\[[^\]]*{correlation_id}[^\]]*\] INVOKE")


def test_countdown_reports_progress_then_succeeds(api: Api) -> None:
    _, events = _submit_and_follow(api, "countdown", {"seconds": 2}, f"it-{uuid.uuid4().hex[:8]}")

    assert events[-1]["status"] == "succeeded"
    assert events[-1]["result"]["counted_seconds"] == 2
    progress = [event["progress"] for event in shown(events)]  # the terminal event says 100 too
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert any(0 < value < 100 for value in progress)


def test_deactivating_a_user_closes_their_websocket(local_stack: LocalStack) -> None:
    """Django publishes user.deactivated; the push function closes the user's socket; the user's
    API token, and so any new ticket, is refused at once."""
    username = f"leaver-{uuid.uuid4().hex[:8]}"
    local_stack.create_user(username, "a-password-of-the-leaver-1")
    leaver = Api(local_stack, local_stack.create_token(username=username))

    async def journey() -> tuple[Any, int]:
        ws = await connect(leaver)
        try:
            await subscribe(ws, next(topic for topic in leaver.ticket()["topics"] if topic.startswith("user:")))
            local_stack.deactivate_user(username)
            try:  # the push function closes the socket through the management API
                async with asyncio.timeout(60):
                    while True:
                        await ws.recv()
            except websockets.ConnectionClosed as closed:
                return closed, leaver.call("POST", "/api/ws/tickets/", {})[0]
        finally:
            await ws.close()

    closed, ticket_status = asyncio.run(journey())
    assert closed.rcvd is not None  # closed by the server's side, not ours
    assert ticket_status == 401
