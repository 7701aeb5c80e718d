"""What a client of the local stack does: HTTP calls with a token, tickets, a real WebSocket."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import websockets

from infra.local.stack import LocalStack

WAIT_SECONDS = 60.0  # generous: a cold container on a busy CI machine; never a timing assertion


def json_call(url: str, method: str, *, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    """One HTTP call with a JSON body; the status and the JSON answer, errors included."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Api:
    def __init__(self, stack: LocalStack, token: str) -> None:
        self.base = stack.http_url
        self.token = token

    def call(self, method: str, path: str, body: Any = None, *, correlation_id: str = "") -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if correlation_id:
            headers["X-Correlation-Id"] = correlation_id
        return json_call(self.base + path, method, headers=headers, body=body)

    def ticket(self, jobs: list[str] | None = None) -> dict[str, Any]:
        status, body = self.call("POST", "/api/ws/tickets/", {"jobs": jobs or []})
        assert status == 201, body
        return dict(body)


async def connect(api: Api) -> Any:
    ticket = api.ticket()
    return await websockets.connect(f"{ticket['websocket_url']}?ticket={ticket['ticket']}", open_timeout=WAIT_SECONDS)


async def subscribe(ws: Any, topic: str) -> None:
    await ws.send(json.dumps({"action": "subscribe", "topic": topic}))
    for _ in range(20):  # bounded: other frames may come first
        frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT_SECONDS))
        if frame.get("type") == "subscribed" and frame.get("topic") == topic:
            return
        assert frame.get("type") != "error", frame
    raise AssertionError(f"no subscribed frame for {topic}")


async def events_until_terminal(ws: Any, job_id: str, *, limit: int = 500) -> list[dict[str, Any]]:
    """The job's events, in arrival order, up to and including a terminal one."""
    events: list[dict[str, Any]] = []
    for _ in range(limit):
        frame = json.loads(await asyncio.wait_for(ws.recv(), WAIT_SECONDS))
        event = frame.get("event") or {}
        if frame.get("type") != "event" or event.get("job_id") != job_id:
            continue
        events.append(event)
        if event["status"] in ("succeeded", "failed", "cancelled"):
            return events
    raise AssertionError(f"no terminal event for {job_id} in {limit} frames")
