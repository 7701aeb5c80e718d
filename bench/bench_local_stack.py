"""The local stack end to end, as ``make run`` runs it: jobs submitted over HTTP with a token, their
terminal events received over a real WebSocket, 100 jobs in flight at once, and ``make run``'s
start-up until the URL answers.

The job is a near no-op (``word_count`` of one word: the product has no no-op task, and the task
registry lives in Django). Per job, the hops come from the client's clock and the events' ``at``
(the worker's clock, same machine):

- HTTP: submit → 202 (the Django function through Zappa: insert, SendMessage);
- queue → worker: submit → the ``job.running`` event's ``at`` (SQS, the poller, a container, the claim);
- worker: ``job.running`` → ``job.succeeded`` ``at`` (the task and the finishing UPDATE);
- topic → push → client: the terminal ``at`` → the frame received (PublishBatch, SNS → push queue,
  the push poller, the push function, the management API, the socket); the push function's own
  median duration, from the stack's log stream, is shown inside it.

``python -m bench local_stack``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets

from bench import process_cpu
from infra.local.stack import LocalStack

TITLE = "Local stack: submit → terminal event over the WebSocket (100 jobs in flight), and make run start-up"
REPO = Path(__file__).resolve().parents[1]
IN_FLIGHT = 100
ROUNDS = 3
TARGET_SINGLE_P50_MS = 50.0
TARGET_SINGLE_P99_MS = 100.0
TARGET_ROUND_WALL_MS = 5000.0  # 100 in flight: every one terminal within 5 s of the first submit
TARGET_START_SECONDS = 5.0
START_RUNS = 4
SINGLE_JOBS = 50
TARGET_CPU_MS = 60.0
CONCURRENCY = 4  # containers per function, the stack's default


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else "missed"


def _at(event: dict[str, Any]) -> float:
    return dt.datetime.fromisoformat(str(event["at"]).replace("Z", "+00:00")).timestamp()


def _post(url: str, token: str, body: dict[str, Any], correlation_id: str) -> tuple[float, float, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        method="POST",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "X-Correlation-Id": correlation_id,
        },
    )
    started = time.time()
    with urllib.request.urlopen(request, timeout=120) as response:
        answer = json.loads(response.read())
    return started, time.time(), answer


async def _rounds(stack: LocalStack, token: str, counts: list[int], pool: ThreadPoolExecutor) -> list[dict[str, float]]:
    """Rounds of jobs submitted at once, one round after another, followed on one WebSocket (one
    ticket and one connection for all of them: the CPU measured is the jobs')."""
    _, _, ticket = _post(f"{stack.http_url}/api/ws/tickets/", token, {"jobs": []}, "bench-ticket")
    topic = next(t for t in ticket["topics"] if t.startswith("user:"))
    jobs: list[dict[str, float]] = []
    async with websockets.connect(f"{ticket['websocket_url']}?ticket={ticket['ticket']}", max_size=None) as ws:
        await ws.send(json.dumps({"action": "subscribe", "topic": topic}))
        for _ in range(10):
            if json.loads(await asyncio.wait_for(ws.recv(), 60)).get("type") == "subscribed":
                break
        for count in counts:
            jobs += await _round(stack, ws, token, count, pool)
    return jobs


async def _round(
    stack: LocalStack, ws: Any, token: str, count: int, pool: ThreadPoolExecutor
) -> list[dict[str, float]]:
    loop = asyncio.get_running_loop()
    submits = [
        loop.run_in_executor(
            pool, _post, f"{stack.http_url}/api/jobs/", token,
            {"task": "word_count", "params": {"text": "x"}}, f"bench-{uuid.uuid4().hex[:8]}",
        )
        for _ in range(count)
    ]  # fmt: skip
    running: dict[str, float] = {}
    done: dict[str, tuple[float, float]] = {}  # job id -> (terminal at, received)

    async def receive() -> None:
        for _ in range(count * 20):  # bounded: a few events per job
            if len(done) >= count:
                return
            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
            event = frame.get("event") or {}
            if event.get("status") == "running" and event["job_id"] not in running:
                running[event["job_id"]] = _at(event)
            if event.get("status") in ("succeeded", "failed"):
                done.setdefault(event["job_id"], (_at(event), time.time()))

    receiver = asyncio.create_task(receive())
    answers = await asyncio.gather(*submits)
    await receiver
    first_submit = min(started for started, _, _ in answers)
    wall = (max(received for _, received in done.values()) - first_submit) * 1000
    jobs = []
    for started, answered, job in answers:
        terminal_at, received = done[job["id"]]
        claimed = running.get(job["id"], terminal_at)
        jobs.append(
            {
                "total": (received - started) * 1000,
                "http": (answered - started) * 1000,
                "queue_worker": (claimed - started) * 1000,
                "worker": (terminal_at - claimed) * 1000,
                "push_client": (received - terminal_at) * 1000,
                "round_wall": wall,  # the round's first submit → its last terminal event
            }
        )
    return jobs


def _push_durations(logs: str) -> list[float]:
    return [float(m.group(1)) for m in re.finditer(r"push .*INVOKE sqs \S+ \(\d+ records\) ok ([\d.]+) ms", logs)]


@dataclass
class StackRun:
    jobs: list[dict[str, float]]  # 100 in flight, every round
    push: list[float]  # the push function's durations during those rounds
    single: list[dict[str, float]]  # one job at a time
    cpu_single: dict[str, float]  # CPU seconds per process role over the one-at-a-time jobs
    cpu_in_flight: dict[str, float]  # ... and over the rounds of 100


def end_to_end() -> StackRun:
    """(100 in flight: jobs, push durations), and one job at a time: the hops without queueing; the
    stack's CPU (every process under ``python -m infra.local``) around each part."""
    # One user submits every round (100 at once): no per-user quota of unfinished jobs in the way.
    with LocalStack(concurrency=CONCURRENCY, environment={"JOBS_MAX_UNFINISHED_PER_USER": "0"}) as stack:
        assert stack.process is not None
        root = stack.process.pid
        token = stack.create_token(name="bench")
        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
            asyncio.run(_rounds(stack, token, [20], pool))  # warm: every function has containers
            before = process_cpu.snapshot(root)
            single = asyncio.run(_rounds(stack, token, [1] * SINGLE_JOBS, pool))
            cpu_single = process_cpu.spent_by_role(before, process_cpu.snapshot(root))
            logs_before = len(stack.logs())
            before = process_cpu.snapshot(root)
            jobs = asyncio.run(_rounds(stack, token, [IN_FLIGHT] * ROUNDS, pool))
            cpu_in_flight = process_cpu.spent_by_role(before, process_cpu.snapshot(root))
        return StackRun(jobs, _push_durations(stack.logs()[logs_before:]), single, cpu_single, cpu_in_flight)


def cpu_table(run: StackRun) -> list[str]:
    """CPU per job, per process role: one at a time and 100 in flight."""
    roles = sorted(set(run.cpu_single) | set(run.cpu_in_flight), key=lambda r: -run.cpu_single.get(r, 0.0))

    def per_job(spent: dict[str, float], role: str, count: int) -> str:
        return f"{spent.get(role, 0.0) * 1000 / count:.1f} ms"

    lines = [
        f"| process | one at a time ({len(run.single)} jobs) | {IN_FLIGHT} in flight ({len(run.jobs)} jobs) |",
        "|---|---:|---:|",
    ]
    for role in roles:
        one, many = per_job(run.cpu_single, role, len(run.single)), per_job(run.cpu_in_flight, role, len(run.jobs))
        lines.append(f"| {role} | {one} | {many} |")
    single_total = sum(run.cpu_single.values()) * 1000 / len(run.single)
    flight_total = sum(run.cpu_in_flight.values()) * 1000 / len(run.jobs)
    lines.append(f"| **stack, summed** | **{single_total:.1f} ms** | **{flight_total:.1f} ms** |")
    lines += [
        "",
        f"Target stack CPU per job ≤ {TARGET_CPU_MS:.0f} ms: one at a time "
        f"**{'met' if single_total <= TARGET_CPU_MS else 'missed'}**, {IN_FLIGHT} in flight "
        f"**{'met' if flight_total <= TARGET_CPU_MS else 'missed'}**.",
    ]
    return lines


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_up() -> list[float]:
    """``python -m infra.local`` (what ``make run`` runs once installed) until /api/health/ answers:
    the first run on a fresh state folder (it migrates the database), then later runs on it."""
    times = []
    with tempfile.TemporaryDirectory() as state:
        for _ in range(START_RUNS):
            port = _free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "SSM_", "DATABASE_"))}
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, "-m", "infra.local", "--http-port", str(port), "--ws-port", "0", "--state-dir", state],
                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            try:
                for _ in range(6000):  # bounded: 60 s
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health/", timeout=30) as response:
                            if response.status == 200:
                                break
                    except OSError:
                        time.sleep(0.01)
                times.append(time.monotonic() - started)
            finally:
                os.killpg(process.pid, signal.SIGINT)
                process.wait(timeout=60)
    return times


def run() -> str:
    starts = start_up()
    stack_run = end_to_end()
    jobs, push, single = stack_run.jobs, stack_run.push, stack_run.single
    single_total = [job["total"] for job in single]
    single_p50, single_p99 = _percentile(single_total, 0.5), _percentile(single_total, 0.99)
    round_walls = sorted({job["round_wall"] for job in jobs})
    walls = ", ".join(f"{wall / 1000:.1f} s" for wall in round_walls)
    first, later = starts[0], statistics.median(starts[1:])
    rows = [
        ("HTTP: submit → 202 (Django via Zappa)", "http"),
        ("queue → worker claims the job", "queue_worker"),
        ("worker: running → succeeded", "worker"),
        ("topic → push queue → push → client", "push_client"),
    ]
    lines = [
        f"{len(jobs)} jobs ({ROUNDS} rounds of {IN_FLIGHT} submitted at once, one WebSocket subscribed to the user's "
        f"topic), SQLite, {CONCURRENCY} containers per function at most; then {SINGLE_JOBS} jobs one at a time.",
        "",
        f"| | {IN_FLIGHT} in flight: p50 | p99 | one at a time: p50 | p99 |",
        "|---|---:|---:|---:|---:|",
    ]

    def row(label: str, key: str) -> str:
        many, one = [job[key] for job in jobs], [job[key] for job in single]
        return (
            f"| {label} | {_percentile(many, 0.5):.0f} ms | {_percentile(many, 0.99):.0f} ms "
            f"| {_percentile(one, 0.5):.0f} ms | {_percentile(one, 0.99):.0f} ms |"
        )

    lines.append(row("**submit → terminal event received**", "total"))
    lines += [row(label, key) for label, key in rows]
    if push:
        lines.append(
            f"| (inside it: the push function, per batch) | {_percentile(push, 0.5):.0f} ms "
            f"| {_percentile(push, 0.99):.0f} ms | | |"
        )
    lines += ["", "### Stack CPU per job (user + system, every process of the stack)", "", *cpu_table(stack_run)]
    lines += [
        "",
        f"Targets: one at a time p50 ≤ {TARGET_SINGLE_P50_MS:.0f} ms **{_verdict(single_p50, TARGET_SINGLE_P50_MS)}**, "
        f"p99 ≤ {TARGET_SINGLE_P99_MS:.0f} ms **{_verdict(single_p99, TARGET_SINGLE_P99_MS)}**; {IN_FLIGHT} in flight, "
        f"first submit → last terminal event ≤ {TARGET_ROUND_WALL_MS / 1000:.0f} s: {walls} "
        f"**{_verdict(max(round_walls), TARGET_ROUND_WALL_MS)}** (AWS publishes SQS → Lambda alone at p50 16 ms, "
        "p99 105 ms).",
        "",
        f"`make run` start-up (installed; `python -m infra.local` until `/api/health/` answers): first run "
        f"(creates and migrates the database) **{first:.1f} s**, later runs (median of {START_RUNS - 1}) "
        f"**{later:.1f} s**; target ≤ {TARGET_START_SECONDS:.0f} s: "
        f"**{'met' if later <= TARGET_START_SECONDS else 'missed'}** (later runs).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
