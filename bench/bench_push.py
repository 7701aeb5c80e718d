"""Fan-out: one job event to 1,000 connections, ours (stdlib SigV4 + pooled http.client) vs boto3's
``post_to_connection``, both driven by the same ``Fanout`` worker threads against the same local
management endpoint."""

from __future__ import annotations

import datetime as dt
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from contracts.job_event import JobEvent
from contracts.ws_protocol import EventPush
from functions.websocket.fanout import Fanout
from functions.websocket.management import ManagementApi
from functions.websocket.sigv4 import Credentials

TITLE = "Push fan-out: events/s to 1,000 connections (ours vs boto3 post_to_connection)"
CONNECTIONS = 1_000
CONCURRENCY = 32
ROUNDS = 7
TARGET = 3.0

# A fast local stand-in for the management API, in its own process: it answers every request 200 on
# keep-alive connections and checks nothing, so the server is never what limits the client measured.
SERVER = r"""
import asyncio, sys

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n"

class Endpoint(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        out = []
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end].lower()
            length = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                break
            self.buffer = self.buffer[end + 4 + length :]
            out.append(OK)
        if out:
            self.transport.write(b"".join(out))

async def main():
    server = await asyncio.get_running_loop().create_server(Endpoint, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@contextmanager
def management_endpoint(stage: str = "bench") -> Iterator[str]:
    """The endpoint's URL (``http://127.0.0.1:<port>/<stage>``) while the server process runs."""
    process = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/{stage}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class Boto3Sender:
    """boto3's client behind the same interface as ours (errors are not mapped: none occur here)."""

    def __init__(self, endpoint: str) -> None:
        import boto3
        from botocore.config import Config

        self.client = boto3.session.Session().client(
            "apigatewaymanagementapi",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",  # noqa: S106 - a local endpoint that checks nothing
            config=Config(
                max_pool_connections=CONCURRENCY,
                connect_timeout=2,
                read_timeout=3,
                retries={"mode": "standard", "max_attempts": 1},
            ),
        )

    def post_to_connection(self, *, connection_id: str, data: bytes) -> None:
        self.client.post_to_connection(ConnectionId=connection_id, Data=data)


def _frame() -> bytes:
    event = JobEvent(
        type="job.progress",
        job_id=uuid.uuid4(),
        owner="1",
        seq=3,
        task="demo.sleep",
        status="running",
        progress=40,
        note="step 2 of 5",
        at=dt.datetime.now(dt.UTC),
    )
    return EventPush(topic="user:1", event=event).model_dump_json().encode()


def _round(fanout: Fanout, messages: list[tuple[str, bytes]]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fanout.send(messages, deadline=time.monotonic() + 120)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if len(result.delivered) != len(messages):
        raise RuntimeError(f"only {len(result.delivered)} of {len(messages)} delivered: {result}")
    return wall, cpu


def run() -> str:
    frame = _frame()
    messages = [(f"conn{i:04d}AAAAA=", frame) for i in range(CONNECTIONS)]
    with management_endpoint() as endpoint:
        ours = Fanout(
            ManagementApi(
                endpoint, region="us-east-1", credentials=Credentials("bench", "bench"), max_idle=CONCURRENCY
            ),
            concurrency=CONCURRENCY,
        )
        theirs = Fanout(Boto3Sender(endpoint), concurrency=CONCURRENCY)
        samples: dict[str, list[tuple[float, float]]] = {"ours": [], "boto3": []}
        _round(ours, messages), _round(theirs, messages)  # warm both pools
        for _ in range(ROUNDS):  # interleaved, so machine noise hits both alike
            samples["ours"].append(_round(ours, messages))
            samples["boto3"].append(_round(theirs, messages))
        ours.close()
        theirs.close()

    def figures(name: str) -> dict[str, Any]:
        wall = statistics.median(w for w, _ in samples[name])
        cpu = statistics.median(c for _, c in samples[name])
        return {"events": 1 / wall, "sends": CONNECTIONS / wall, "cpu_us": cpu / CONNECTIONS * 1e6}

    o, b = figures("ours"), figures("boto3")
    ratio = o["events"] / b["events"]
    verdict = "meets" if ratio >= TARGET else "MISSES"
    return f"""
One event ({len(frame)} bytes) to {CONNECTIONS:,} connections per round, {CONCURRENCY} worker threads, {ROUNDS}
interleaved rounds each after a warm-up; the management endpoint is a minimal keep-alive HTTP server in its
own process on 127.0.0.1 (so the figures are client cost, not network). Both sides use the same `Fanout`;
only the sender differs. CPU is this process's CPU time per call.

| sender | events/s (1,000 connections) | posts/s | CPU per post |
|---|---:|---:|---:|
| ours: stdlib SigV4 + pooled `http.client` | {o["events"]:.2f} | {o["sends"]:,.0f} | {o["cpu_us"]:.0f} µs |
| boto3 `post_to_connection` | {b["events"]:.2f} | {b["sends"]:,.0f} | {b["cpu_us"]:.0f} µs |

**Ours / boto3: {ratio:.1f}x** (target ≥ {TARGET:.0f}x: {verdict}).

Run: `python -m bench push`.
"""
