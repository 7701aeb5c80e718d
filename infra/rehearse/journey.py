"""One job end to end through the deployed stack: a browser's view, with a real WebSocket client.

Order as docs/protocol.md asks of clients: subscribe first, then act. The client subscribes to
its own ``user:<id>`` topic, then the job is submitted, so no event can precede the subscription.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import websockets

from infra.rehearse.django_side import DjangoFunction

TERMINAL = {"succeeded", "failed", "cancelled"}


@dataclass
class JourneyResult:
    job_id: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    final_http: dict[str, Any] = field(default_factory=dict)
    websocket_url_from_django: str = ""
    timings: dict[str, float] = field(default_factory=dict)


async def _expect(socket: Any, predicate: Any, *, timeout: float, seen: list[dict[str, Any]]) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    for _ in range(10_000):  # bounded in count as well as in time
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=remaining))
        except TimeoutError:
            break
        seen.append(frame)
        if predicate(frame):
            return dict(frame)
    raise TimeoutError(f"no expected frame within {timeout:.0f} s; frames so far: {seen[-10:]}")


async def run_journey(
    django: DjangoFunction, *, token: str, websocket_base: str, task_seconds: int = 2, timeout: float = 180
) -> JourneyResult:
    result = JourneyResult()
    started = time.monotonic()

    status, ticket = await asyncio.to_thread(django.api, "POST", "/api/ws/tickets/", token=token, body={"jobs": []})
    if status != 201:
        raise RuntimeError(f"POST /api/ws/tickets/ answered {status}: {ticket}")
    result.websocket_url_from_django = ticket["websocket_url"]
    user_topic = next(topic for topic in ticket["topics"] if topic.startswith("user:"))
    result.timings["ticket_s"] = time.monotonic() - started

    url = f"{websocket_base}?ticket={quote(ticket['ticket'])}"
    frames: list[dict[str, Any]] = []
    async with websockets.connect(url, open_timeout=60, close_timeout=5) as socket:
        result.timings["connected_s"] = time.monotonic() - started
        await socket.send(json.dumps({"action": "subscribe", "topic": user_topic}))
        await _expect(socket, lambda f: f.get("type") == "subscribed", timeout=60, seen=frames)
        result.timings["subscribed_s"] = time.monotonic() - started

        status, job = await asyncio.to_thread(
            django.api,
            "POST",
            "/api/jobs/",
            token=token,
            body={"task": "countdown", "params": {"seconds": task_seconds}},
        )
        if status != 202:
            raise RuntimeError(f"POST /api/jobs/ answered {status}: {job}")
        result.job_id = str(job["id"])
        submitted = time.monotonic()
        result.timings["submitted_s"] = submitted - started

        def terminal(frame: dict[str, Any]) -> bool:
            event = frame.get("event") or {}
            return (
                frame.get("type") == "event"
                and event.get("job_id") == result.job_id
                and event.get("status") in TERMINAL
            )

        await _expect(socket, terminal, timeout=timeout, seen=frames)
        result.timings["terminal_event_after_submit_s"] = time.monotonic() - submitted
        await socket.send(json.dumps({"action": "ping", "id": "bye"}))
        await _expect(socket, lambda f: f.get("type") == "pong", timeout=30, seen=frames)

    result.events = [
        f["event"] for f in frames if f.get("type") == "event" and f["event"].get("job_id") == result.job_id
    ]
    status, final = await asyncio.to_thread(django.api, "GET", f"/api/jobs/{result.job_id}/", token=token)
    if status != 200:
        raise RuntimeError(f"GET /api/jobs/{result.job_id}/ answered {status}: {final}")
    result.final_http = final
    result.timings["total_s"] = time.monotonic() - started
    return result
