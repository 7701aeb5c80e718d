"""The soak: the local stack on PostgreSQL under steady load, with faults injected while it runs,
then a count of what happened to every job (docs/reliability.md).

Load: ``clients`` WebSocket clients over ``users`` users, each subscribed to its user's topic,
and ``jobs`` ``soak.step`` jobs submitted over HTTP at ``rate`` per second, round robin over the
users. Faults, each switchable and counted:

- kill: a share of the jobs sleep 1.5 s; when one starts (its ``start`` receipt names the
  worker's pid), that worker process is SIGKILLed, mid-task;
- duplicates: the job message of a share of the jobs is sent again, as SQS may redeliver it;
- poison: bad JSON, a wrong schema version, an unknown task, an unknown job, sent to the queue;
- vanish: clients that drop their TCP connection without a close frame, and never come back;
- reconnect: clients that close and come back with a new ticket, subscribe, then fetch their
  jobs (the subscribe-then-fetch rule);
- throttle: the management API answers 429 for a share of posts (``--throttle-share``);
- restart: PostgreSQL restarted once, half-way through the submissions.

Every loop is bounded in count and time; everything talks to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import psycopg
import websockets
from botocore.config import Config

from bench import process_cpu
from infra.local.stack import LocalStack
from tests.soak.cpu_hog import cpu_hogs

REPO = Path(__file__).resolve().parents[2]
TERMINAL = {"succeeded", "failed", "cancelled"}
KILL_SLEEP_MS = 1500
STEP_SLEEP_MS = 20
SUBSCRIBE_TIMEOUT = 10.0  # seconds without a ``subscribed`` frame before subscribing again


@dataclass(frozen=True)
class SoakConfig:
    database_url: str  # a PostgreSQL server; the soak creates and drops its own database there
    users: int = 50
    clients: int = 500
    jobs: int = 5000
    rate: float = 12.0  # jobs submitted per second
    kill_share: float = 0.01
    duplicate_share: float = 0.05
    poison_each: int = 2  # of each of the four kinds
    vanish_share: float = 0.05  # of the clients
    reconnect_share: float = 0.1
    throttle_share: float = 0.05
    restart_postgres: bool = True
    # The load alone takes jobs / rate (417 s at full size); with 40 % to spare, the full soak must end
    # within 540 s while a CPU-bound process runs beside it.
    time_limit: float = 900.0
    # The soak must end with this share of its time limit unused: a soak that only just fits proves
    # the machine it ran on, not the stack.
    spare_share: float = 0.4
    # CPU-bound processes run beside the stack for the whole soak (a machine doing something else).
    cpu_hogs: int = 1
    seed: int = 7
    # Concurrent batches per SQS event source (the stack's --pollers; its default is 2). Lambda
    # starts an SQS trigger with five; the push queue's fan-out to 500 clients needs more than two.
    pollers: int = 4


@dataclass
class Client:
    number: int
    user: int
    ws: Any = None
    seen: dict[str, str] = field(default_factory=dict)  # job id -> terminal status, pushed or fetched
    frames: int = 0
    vanished: bool = False
    reconnects: int = 0


@dataclass
class Tally:
    submitted: int = 0
    http: Counter[int] = field(default_factory=Counter)
    http_5xx: list[str] = field(default_factory=list)
    kills: int = 0
    duplicates: int = 0
    poison: list[str] = field(default_factory=list)
    vanished: int = 0
    reconnects: int = 0
    restarts: int = 0
    restart_seconds: float = 0.0


@dataclass
class SoakResult:
    config: SoakConfig
    seconds: float
    tally: Tally
    jobs_by_status: dict[str, int]
    not_terminal: int
    lost: int  # submitted (202) but no job row, or a body that never ran to completion
    double_run: int
    missed_terminal: int  # terminal events a connected owner neither received nor fetched
    missed_detail: list[str]  # the first few, for the report
    clients_checked: int
    frames: int
    dlq_bodies: list[str]
    dlq_matches_poison: bool
    function_errors: list[str]
    throttled_posts: int
    killed_invocations: int
    timed_out: bool  # the time limit cut the load, the faults or the wait for terminal events short
    stack_cpu_seconds: float  # user + system time of every process of the stack during the load

    @property
    def spare(self) -> float:
        """The share of the time limit left unused."""
        return 1.0 - self.seconds / self.config.time_limit

    @property
    def too_slow(self) -> bool:
        return self.timed_out or self.spare < self.config.spare_share

    @property
    def cpu_per_job_ms(self) -> float:
        return self.stack_cpu_seconds * 1000 / max(1, self.tally.submitted)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.double_run == 0
            and self.not_terminal == 0
            and self.missed_terminal == 0
            and self.dlq_matches_poison
            and not self.tally.http_5xx
            and not self.function_errors
            and self.jobs_by_status.get("succeeded", 0) == self.tally.submitted
            and not self.too_slow
        )

    def verdict(self) -> str:
        c = self.config
        if self.timed_out:
            return (
                f"FAIL: too slow (the {c.time_limit:.0f} s time limit was reached with {self.tally.submitted}"
                f" of {c.jobs} jobs submitted)"
            )
        if self.too_slow:
            return (
                f"FAIL: too slow ({self.seconds:.0f} s of the {c.time_limit:.0f} s limit: {self.spare:.0%} spare,"
                f" {c.spare_share:.0%} required)"
            )
        return "PASS" if self.ok else "FAIL"

    def _missed_row(self) -> str:
        if self.timed_out:
            # Events still on their way when time ran out say the stack is slow, not that it lost them.
            return f"not counted: time ran out ({self.missed_terminal} outstanding)"
        return f"{self.missed_terminal} of {self.clients_checked} clients × their jobs"

    def table(self) -> str:
        c, t = self.config, self.tally
        dlq_verdict = "equal" if self.dlq_matches_poison else "DIFFERENT"
        kills = f"{t.kills} (invocations ended by the kill: {self.killed_invocations})"
        rows = [
            ("jobs submitted (202)", f"{t.submitted} at {c.rate:g}/s"),
            ("WebSocket clients / users", f"{c.clients} / {c.users}"),
            ("duration", f"{self.seconds:.0f} s" + (" (**time limit reached**)" if self.timed_out else "")),
            ("time limit, spare", f"{c.time_limit:.0f} s, {self.spare:.0%} spare (≥ {c.spare_share:.0%} required)"),
            ("CPU-bound processes beside the stack", str(c.cpu_hogs)),
            ("stack CPU per job (every process of the stack)", f"{self.cpu_per_job_ms:.1f} ms"),
            ("jobs by final status", ", ".join(f"{k} {v}" for k, v in sorted(self.jobs_by_status.items()))),
            ("**lost** (no row, not terminal, or body never completed)", str(self.lost + self.not_terminal)),
            ("**double-run** (body completed more than once)", str(self.double_run)),
            (
                "**missed terminal events** (connected owner neither received nor fetched)",
                self._missed_row(),
            ),
            ("**DLQ = poison**", f"{len(self.dlq_bodies)} in DLQ, {len(t.poison)} poison sent: {dlq_verdict}"),
            ("**HTTP 5xx**", str(len(t.http_5xx))),
            ("**unhandled exceptions in function logs**", str(len(self.function_errors))),
            ("HTTP answers", ", ".join(f"{k} × {v}" for k, v in sorted(t.http.items()))),
            ("frames received by clients", str(self.frames)),
            (
                "fault: workers SIGKILLed mid-task",
                kills,
            ),
            ("fault: duplicate deliveries sent", str(t.duplicates)),
            ("fault: poison messages sent", str(len(t.poison))),
            ("fault: clients vanished without a close frame", str(t.vanished)),
            ("fault: clients reconnected mid-run", str(t.reconnects)),
            ("fault: management API 429s injected", f"{self.throttled_posts} (share {c.throttle_share:g})"),
            ("fault: PostgreSQL restarts", f"{t.restarts} ({t.restart_seconds:.1f} s)"),
        ]
        lines = ["| | |", "|---|---|", *(f"| {label} | {value} |" for label, value in rows)]
        lines.append("")
        lines.append(f"Result: **{self.verdict()}**")
        return "\n".join(lines)


# --- the parts of the stack the soak reaches around -------------------------------------------


def _soak_database(server_url: str, name: str, *, drop: bool = False) -> str:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            admin.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/]*$", f"/{name}", server_url)


def _restart_postgres() -> float:
    """``pg_ctlcluster restart`` of the first cluster (the one infra/scripts/postgres.sh started)."""
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True, timeout=30)
    version, name = listing.stdout.split()[:2]
    started = time.monotonic()
    subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True, timeout=120, capture_output=True)
    return time.monotonic() - started


def _create_users(stack: LocalStack, count: int) -> list[str]:
    """``count`` users with one API token each, in one Django process; returns the tokens."""
    script = (
        "import django, json, sys; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from django_app.accounts.tokens import api_token_create\n"
        "tokens = []\n"
        "for n in range(int(sys.argv[1])):\n"
        "    user = get_user_model().objects.create_user(username=f'soak-{n}', password=None)\n"
        "    tokens.append(api_token_create(user=user, name='soak')[1])\n"
        "print(json.dumps(tokens))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(count)],
        cwd=REPO, env=stack.django_env(), capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def _descendant_of(pid: int, ancestor: int) -> bool:
    for _ in range(64):  # bounded: process trees are shallow
        if pid == ancestor:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat[stat.rfind(")") + 2 :].split()[1])
        if pid <= 1:
            return False
    return False


class Http:
    """Blocking calls in a thread pool; every answer's status is tallied, 5xx listed."""

    def __init__(self, base: str, tally: Tally, pool: ThreadPoolExecutor) -> None:
        self.base, self.tally, self.pool = base, tally, pool

    def _call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        self.tally.http[status] += 1
        if status >= 500:
            self.tally.http_5xx.append(f"{method} {path} {status} {text[:200]!r}")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, None

    async def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._call, method, path, token, body)


# --- the run --------------------------------------------------------------------------------------


class Soak:
    def __init__(self, config: SoakConfig, stack: LocalStack, tokens: list[str], receipts: Path) -> None:
        self.config = config
        self.stack = stack
        self.tokens = tokens
        self.receipts = receipts
        self.random = random.Random(config.seed)
        self.tally = Tally()
        self.pool = ThreadPoolExecutor(max_workers=16)
        self.http = Http(stack.http_url, self.tally, self.pool)
        self.clients = [Client(number=n, user=n % config.users) for n in range(config.clients)]
        self.refs: dict[str, str] = {}  # ref -> job id, for every 202
        self.owner_jobs: dict[int, set[str]] = {user: set() for user in range(config.users)}
        self.victims: set[str] = set()
        self.killed: set[str] = set()
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=stack.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 5}),
        )
        self.jobs_queue = self.sqs.get_queue_url(QueueName="polyglot-local-jobs")["QueueUrl"]
        self.dlq = self.sqs.get_queue_url(QueueName="polyglot-local-jobs-dlq")["QueueUrl"]
        self.submitting = True
        self.timed_out = False
        self.posts_started = 0

    # clients

    async def _connect(self, client: Client) -> None:
        token = self.tokens[client.user]
        for _ in range(5):  # bounded: a refused connect (e.g. during the restart) is tried again
            status, ticket = await self.http.call("POST", "/api/ws/tickets/", token, {"jobs": []})
            if status == 201 or status == 200:
                break
            await asyncio.sleep(1)
        else:
            raise RuntimeError(f"client {client.number}: no ticket ({status})")
        client.ws = await websockets.connect(
            f"{ticket['websocket_url']}?ticket={ticket['ticket']}", max_size=None, open_timeout=60
        )
        topic = next(t for t in ticket["topics"] if t.startswith("user:"))
        subscribe = json.dumps({"action": "subscribe", "topic": topic})
        await client.ws.send(subscribe)
        resends = 0
        for _ in range(200):  # bounded: events may arrive before the acknowledgement
            try:
                frame = json.loads(await asyncio.wait_for(client.ws.recv(), SUBSCRIBE_TIMEOUT))
            except TimeoutError:
                # A reply the management API lost (e.g. to throttling) is asked for again; the
                # page's client reconnects instead. Subscribing twice is harmless.
                resends += 1
                if resends > 5:
                    break
                await client.ws.send(subscribe)
                continue
            self._note(client, frame)
            if frame.get("type") == "subscribed":
                return
        raise RuntimeError(f"client {client.number}: no subscribed frame")

    def _note(self, client: Client, frame: dict[str, Any]) -> None:
        event = frame.get("event") or {}
        if event.get("status") in TERMINAL:
            client.seen[str(event["job_id"])] = event["status"]

    async def _listen(self, client: Client) -> None:
        for _ in range(10_000_000):  # bounded; ends when the socket closes
            try:
                frame = await client.ws.recv()
            except websockets.ConnectionClosed:
                return
            client.frames += 1
            self._note(client, json.loads(frame))

    async def _fetch(self, client: Client) -> None:
        """After (re)subscribing: the user's jobs as they are now (subscribe-then-fetch)."""
        path = "/api/jobs/?page_size=100"
        for _ in range(1000):  # bounded pages
            status, page = await self.http.call("GET", path, self.tokens[client.user])
            if status != 200:
                await asyncio.sleep(0.5)
                continue
            for job in page["results"]:
                if job["status"] in TERMINAL:
                    client.seen[str(job["id"])] = job["status"]
            if not page.get("next"):
                return
            path = "/" + page["next"].split("://", 1)[1].split("/", 1)[1]  # the next page, on our origin

    # faults

    async def _vanish_and_reconnect(self, listeners: dict[int, asyncio.Task[None]]) -> None:
        c = self.config
        vanish = self.random.sample(self.clients, round(c.clients * c.vanish_share))
        rest = [client for client in self.clients if client not in vanish]
        reconnect = self.random.sample(rest, round(c.clients * c.reconnect_share))
        duration = c.jobs / c.rate
        plan = [(self.random.uniform(0.1, 0.8) * duration, "vanish", cl) for cl in vanish]
        plan += [(self.random.uniform(0.1, 0.8) * duration, "reconnect", cl) for cl in reconnect]
        started = time.monotonic()
        for at, kind, client in sorted(plan, key=lambda item: item[0]):
            await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
            if kind == "vanish":
                client.vanished = True
                client.ws.transport.abort()  # no close frame: the gateway finds out on its own
                self.tally.vanished += 1
            else:
                await client.ws.close()
                await listeners[client.number]
                await self._connect(client)
                listeners[client.number] = asyncio.create_task(self._listen(client))
                await self._fetch(client)
                client.reconnects += 1
                self.tally.reconnects += 1

    async def _killer(self) -> None:
        """Kills the worker that started a victim job, the first time it starts."""
        offset = 0
        stack_pid = self.stack.pid
        for _ in range(100_000):  # bounded by the run's time limit below
            if not self.submitting and self.victims <= self.killed:
                return
            await asyncio.sleep(0.05)
            if not self.receipts.exists():
                continue
            with open(self.receipts, "rb") as lines:
                lines.seek(offset)
                chunk = lines.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            offset += len(complete)
            for line in complete.decode().splitlines():
                kind, ref, *rest = line.split()
                if kind == "start" and ref in self.victims and ref not in self.killed:
                    self.killed.add(ref)
                    pid = int(rest[0])
                    if _descendant_of(pid, stack_pid):  # only a process of the stack we started
                        os.kill(pid, signal.SIGKILL)
                        self.tally.kills += 1

    def _send_raw(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.jobs_queue, MessageBody=body)

    async def _poison(self) -> None:
        kinds = {
            "bad-json": lambda: '{"job_id": ',
            "wrong-version": lambda: json.dumps(
                {"v": 99, "job_id": str(uuid.uuid4()), "task": "soak.step", "attempt": 0}
            ),
            "unknown-task": lambda: json.dumps({"v": 1, "job_id": str(uuid.uuid4()), "task": "no.such", "attempt": 0}),
            "unknown-job": lambda: json.dumps({"v": 1, "job_id": str(uuid.uuid4()), "task": "soak.step", "attempt": 0}),
        }
        for _ in range(self.config.poison_each):
            for make in kinds.values():
                body = make()
                await asyncio.get_running_loop().run_in_executor(self.pool, self._send_raw, body)
                self.tally.poison.append(body)
                await asyncio.sleep(self.random.uniform(0.2, 2.0))

    async def _duplicate(self, job_id: str) -> None:
        await asyncio.sleep(self.random.uniform(0.0, 3.0))  # sometimes while queued or running, sometimes after
        body = json.dumps({"v": 1, "job_id": job_id, "task": "soak.step", "attempt": 0})
        await asyncio.get_running_loop().run_in_executor(self.pool, self._send_raw, body)
        self.tally.duplicates += 1

    async def _restart(self) -> None:
        await asyncio.sleep(self.config.jobs / self.config.rate / 2)
        seconds = await asyncio.get_running_loop().run_in_executor(self.pool, _restart_postgres)
        self.tally.restarts += 1
        self.tally.restart_seconds += seconds

    # load

    async def _submit(self, number: int, background: set[asyncio.Task[None]]) -> None:
        user = number % self.config.users
        ref = f"r{number}"
        victim = self.random.random() < self.config.kill_share
        if victim:  # before the POST: the job may start before its 202 comes back
            self.victims.add(ref)
        params = {"ref": ref, "sleep_ms": KILL_SLEEP_MS if victim else STEP_SLEEP_MS}
        status, job = await self.http.call(
            "POST", "/api/jobs/", self.tokens[user], {"task": "soak.step", "params": params}
        )
        if status != 202:
            self.victims.discard(ref)
            return
        self.tally.submitted += 1
        self.refs[ref] = str(job["id"])
        self.owner_jobs[user].add(str(job["id"]))
        if self.random.random() < self.config.duplicate_share:
            task = asyncio.create_task(self._duplicate(str(job["id"])))
            background.add(task)
            task.add_done_callback(background.discard)

    async def _load(self) -> None:
        background: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        submits = []
        for number in range(self.config.jobs):
            await asyncio.sleep(max(0.0, started + number / self.config.rate - time.monotonic()))
            submits.append(asyncio.create_task(self._submit(number, background)))
            self.posts_started += 1
        await asyncio.gather(*submits)
        self.submitting = False
        if background:
            await asyncio.gather(*background)

    async def _progress(self, every: float) -> None:
        """A line on stderr every ``every`` seconds: an operator sees a run that falls behind."""
        started = time.monotonic()
        for _ in range(100_000):  # bounded; cancelled when the run ends
            await asyncio.sleep(every)
            answered = sum(self.tally.http.values())
            owed = sum(len(self.owner_jobs[c.user] - c.seen.keys()) for c in self.clients if not c.vanished)
            print(
                f"[soak {time.monotonic() - started:4.0f} s] submitted {self.tally.submitted}/{self.config.jobs}"
                f" ({self.posts_started - self.tally.submitted} posts without a 202 yet), HTTP answers {answered},"
                f" frames {sum(c.frames for c in self.clients)}, terminal events owed {owed}",
                file=sys.stderr,
                flush=True,
            )

    def _all_seen(self) -> bool:
        return all(self.owner_jobs[client.user] <= client.seen.keys() for client in self.clients if not client.vanished)

    async def run(self) -> None:
        deadline = time.monotonic() + self.config.time_limit
        for start in range(0, len(self.clients), 20):  # 20 at a time: tickets, handshakes, subscriptions
            await asyncio.gather(*(self._connect(client) for client in self.clients[start : start + 20]))
        listeners = {client.number: asyncio.create_task(self._listen(client)) for client in self.clients}
        progress = asyncio.create_task(self._progress(30.0))
        faults = [self._killer(), self._poison(), self._vanish_and_reconnect(listeners)]
        if self.config.restart_postgres:
            faults.append(self._restart())
        work = [asyncio.ensure_future(step) for step in (self._load(), *faults)]
        done, late = await asyncio.wait(work, timeout=max(1.0, deadline - time.monotonic()))
        for step in done:
            step.result()  # a step that failed fails the soak
        for step in late:  # out of time: what did not finish is cut short and the counts still run
            step.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        self.timed_out = bool(late)
        for _ in range(100_000):  # bounded by the deadline
            if self._all_seen():
                break
            if time.monotonic() > deadline:
                self.timed_out = True
                break
            await asyncio.sleep(0.5)
        for client in self.clients:
            if not client.vanished:
                await client.ws.close()
        await asyncio.gather(*listeners.values(), return_exceptions=True)
        progress.cancel()


# --- the counts -----------------------------------------------------------------------------------


def _receipts(path: Path) -> Counter[str]:
    done: Counter[str] = Counter()
    if path.exists():
        for line in path.read_text().splitlines():
            kind, ref, *_ = line.split()
            if kind == "done":
                done[ref] += 1
    return done


def _drain(sqs: Any, queue_url: str, *, settle_seconds: float, limit_seconds: float) -> list[str]:
    """Every message in the queue, waiting until none arrived for ``settle_seconds``."""
    bodies: list[str] = []
    quiet_since = time.monotonic()
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline and time.monotonic() - quiet_since < settle_seconds:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            quiet_since = time.monotonic()
    return bodies


def _function_errors(logs: str) -> list[str]:
    """Tracebacks and failed invocations, less the invocations the soak's SIGKILLs ended."""
    found = [line for line in logs.splitlines() if "Traceback (most recent call last)" in line]
    found += [line for line in logs.splitlines() if re.search(r" INVOKE .* ERROR ", line)]
    return found


def _killed_invocations(logs: str) -> list[str]:
    return [line for line in logs.splitlines() if re.search(r"^\S+ worker .* INVOKE .* ERROR Runtime exited", line)]


def run_soak(config: SoakConfig, *, work_dir: Path) -> SoakResult:
    name = f"polyglot_soak_{os.getpid()}"
    database_url = _soak_database(config.database_url, name)
    receipts = work_dir / "receipts.log"
    environment = {
        "JOBS_EXTRA_TASK_MODULES": "django_app.demo.soak_tasks",
        "SOAK_RECEIPTS_PATH": str(receipts),
        "RATE_LIMIT_TICKETS_PER_USER": "0",  # 500 clients of 50 users mint their tickets at once
        "RATE_LIMIT_TICKETS_PER_IP": "0",
        "WORKER_POISON_VISIBILITY_SECONDS": "1",
        "WORKER_DB_DOWN_BASE_SECONDS": "1",
        "WORKER_RETRY_BASE_SECONDS": "1",
        "JOBS_LEASE_GRACE_SECONDS": "2",
    }
    stack = LocalStack(
        state_dir=work_dir / "stack",
        database_url=database_url,
        environment=environment,
        throttle_share=config.throttle_share,
        schedule_seconds={"polyglot-local-sweep": 2},
        pollers=config.pollers,
        params={"jobsVisibilityTimeout": 10, "pushVisibilityTimeout": 3},
    )
    started = time.monotonic()
    try:
        with stack:
            tokens = _create_users(stack, config.users)
            soak = Soak(config, stack, tokens, receipts)
            cpu_before = process_cpu.snapshot(stack.pid)
            try:
                with cpu_hogs(config.cpu_hogs):
                    asyncio.run(soak.run())
            finally:
                soak.pool.shutdown(wait=True)
            stack_cpu = sum(process_cpu.spent_by_role(cpu_before, process_cpu.snapshot(stack.pid)).values())
            dlq = _drain(soak.sqs, soak.dlq, settle_seconds=15, limit_seconds=120)
            seconds = time.monotonic() - started
            with psycopg.connect(database_url) as db:
                rows = db.execute(
                    "select params->>'ref', id::text, status from jobs_job where task = 'soak.step'"
                ).fetchall()
            logs = stack.logs()
    finally:
        _soak_database(config.database_url, name, drop=True)
    jobs_by_ref: dict[str, list[tuple[str, str]]] = {}
    for ref, job_id, status in rows:
        jobs_by_ref.setdefault(ref, []).append((job_id, status))
    done = _receipts(receipts)
    statuses = Counter(status for _, _, status in rows)
    lost = sum(1 for ref in soak.refs if ref not in jobs_by_ref or done[ref] == 0)
    double_run = sum(1 for ref in soak.refs if done[ref] > 1) + sum(1 for jobs in jobs_by_ref.values() if len(jobs) > 1)
    not_terminal = sum(1 for _, _, status in rows if status not in TERMINAL)
    live = [client for client in soak.clients if not client.vanished]
    missed = sum(len(soak.owner_jobs[client.user] - client.seen.keys()) for client in live)
    missed_detail = [
        f"client {client.number} (user {client.user}, reconnects {client.reconnects}): job {job_id}"
        for client in live
        for job_id in sorted(soak.owner_jobs[client.user] - client.seen.keys())
    ]
    killed = _killed_invocations(logs)
    errors = [line for line in _function_errors(logs) if line not in killed]
    if len(killed) > soak.tally.kills:  # a SIGKILLed invocation is an error only the soak may cause
        errors += killed
    return SoakResult(
        config=config,
        seconds=seconds,
        tally=soak.tally,
        jobs_by_status=dict(statuses),
        not_terminal=not_terminal,
        lost=lost,
        double_run=double_run,
        missed_terminal=missed,
        missed_detail=missed_detail[:20],
        clients_checked=len(live),
        frames=sum(client.frames for client in soak.clients),
        dlq_bodies=dlq,
        dlq_matches_poison=sorted(dlq) == sorted(soak.tally.poison),
        function_errors=errors,
        throttled_posts=logs.count("429 LimitExceededException (injected)"),
        killed_invocations=len(killed),
        timed_out=soak.timed_out,
        stack_cpu_seconds=stack_cpu,
    )
