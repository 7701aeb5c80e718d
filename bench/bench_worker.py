"""Worker throughput: the Lambda handler called in-process with SQS batches of 10 for a no-op task,
on SQLite and on PostgreSQL, job events published to a moto SNS topic (PublishBatch).

Each database runs in its own child process (Django is configured once per process), against its
own fresh database; moto runs in a separate process so its request handling does not share the
worker's GIL. Counted: jobs/s from claim to finish, and database round trips per job: every
statement through Django's cursor (``connection.execute_wrapper``) plus the connection health
checks (``SELECT 1`` outside the cursor) that ``close_old_connections`` triggers per record.

No regression (issue 16): every configuration also runs the code before the issue's changes
(``WORKER_BASELINE``, unpacked by ``bench.baseline``), its own child in its own tree, interleaved
with this tree's in pairs (``bench.interleave``); the verdict is on the median of the pairs' ratios.
The DB-only floor is a second, fixed reference: the same number of round trips per job as the worker
made, as bare ``SELECT 1`` statements, so it says how much the worker adds on top of its queries.

``python -m bench worker``; a child: ``python -m bench.bench_worker --child sqlite|postgresql URL``;
the baseline against itself (the noise the threshold allows for): ``python -m bench.bench_worker --aa [ROUNDS]``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.baseline import baseline_tree
from bench.interleave import Side, compare, median_range, run_interleaved

TITLE = "Worker throughput: no-op jobs through the SQS handler (batches of 10)"
REPO = Path(__file__).resolve().parents[1]
# Short rounds, many of them: the two trees' children take turns round by round, and the shorter the
# turns, the more alike the load each side of a pair meets (the A/A runs in docs/benchmarks.md).
JOBS_PER_ROUND = 250
ROUNDS = 60  # per configuration and tree: ~3.5 min in all at a load of 2 to 3 on 2 cores
PLAIN_ROUNDS = 3  # the moto-as-shipped row: this tree only
BATCH = 10
TARGET_JOBS_PER_SECOND = 500
TARGET_ROUND_TRIPS = 4
STRICT = "postgresql, task not declared idempotent"
PLAIN_MOTO = "postgresql, moto as shipped"
# Issue 16's "no regression": today's code, the tree before its job queues, django-tasks backend,
# quota, retry options and worker-core refactor.
WORKER_BASELINE = "4b9ef7bad131cbed6aee28fa7200590465b5f95c"
CHILD_PATHS = ("django_app", "functions", "contracts", "polyglot_auth", "bench")  # all a child imports
NO_REGRESSION = 0.95
# What the threshold has to leave room for: the baseline against itself (``--aa``), measured on the
# 2-core machine of docs/benchmarks.md, shared with other engineers' test runs, on 2026-12-05.
AA_NOISE = (
    f"Why {NO_REGRESSION:.2f}: the A/A noise. `python -m bench.bench_worker --aa` runs `4b9ef7b` against itself "
    "exactly as above. On 2026-12-05, on this 2-core machine shared with other engineers' test runs, at "
    f"{ROUNDS} pairs of rounds (load 2.9 then 1.3) the median ratios were 1.02 (sqlite), 1.00 (postgresql) and "
    "1.03 (not idempotent), while single pairs ranged from 0.23 to 3.30: 3 % of noise on the median, which a "
    "5 % threshold clears. Fewer or longer turns were much noisier: 24 pairs of rounds gave 0.89, 0.99 and 0.98 "
    "(load 3.5 then 2.8), and whole child processes taking turns (4 pairs, each child 2 rounds of 1,000 jobs) "
    "gave 1.27, 0.90 and 1.10 (load 4.4). A ratio just under the threshold on a loaded machine is to be run "
    "again before it is believed; one well under it is a regression."
)
# A child of either tree: that tree's own ``bench.bench_worker._child``, with ROUNDS and
# JOBS_PER_ROUND set the same for both, paced by the parent. Each round times its handler calls
# inside one ``connection.execute_wrapper`` block (both trees' ``_child``); on entering it, outside
# the timed part, the child reports the previous round's seconds ("WAIT s") and waits for the
# parent's "go", so the children of the two trees run their rounds in turn, never at the same time.
# At the end: a check that nothing of the project was imported from outside the tree, the last
# round's seconds, the child's JSON.
CHILD = """
import contextlib, json, os, sys, time
from django.db.backends.base.base import BaseDatabaseWrapper
import bench.bench_worker as bench_worker

bench_worker.ROUNDS = int(sys.argv[3])
bench_worker.JOBS_PER_ROUND = int(sys.argv[4])
original = BaseDatabaseWrapper.execute_wrapper
last = [-1.0]

@contextlib.contextmanager
def paced(self, wrapper):
    print("WAIT", last[0], flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit("the parent went away")
    with original(self, wrapper):
        started = time.perf_counter()
        yield
        last[0] = time.perf_counter() - started

BaseDatabaseWrapper.execute_wrapper = paced
measured = bench_worker._child(sys.argv[1], sys.argv[2])
tree = os.path.realpath(os.getcwd())
strays = sorted(
    name for name, module in list(sys.modules.items())
    if name.split(".")[0] in ("django_app", "functions", "contracts", "polyglot_auth", "bench", "infra")
    and not os.path.realpath(getattr(module, "__file__", None) or tree).startswith(tree + os.sep)
)
if strays:
    sys.exit(f"imported from outside {tree}: {strays}")
print("WAIT", last[0], flush=True)
print(json.dumps(measured), flush=True)
"""


# --- the child: one database, in-process handler -------------------------------------------------


def _child(vendor: str, database_url: str) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DATABASE_CONN_MAX_AGE"] = "60"  # as on Lambda (settings/lambda_.py)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.config.settings.test")
    os.environ["LOG_LEVEL"] = "WARNING"  # per-message INFO lines would measure the terminal, not the worker

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from pydantic import BaseModel, ConfigDict

    from contracts.job_message import JobMessage
    from django_app.jobs.aws import client, sns_publisher
    from django_app.jobs.models import Job, JobStatus
    from django_app.jobs.registry import TaskContext, task, task_get

    call_command("migrate", verbosity=0)
    topic = client("sns").create_topic(Name=f"bench-job-events-{uuid.uuid4().hex[:8]}")["TopicArn"]
    from django.conf import settings

    settings.JOB_EVENTS_TOPIC_ARN = topic

    class NoParams(BaseModel):
        model_config = ConfigDict(extra="forbid")

    # Registered here only: a no-op job type has no place in the product's task list. A no-op is safe
    # to run twice, so it is declared idempotent, except for the STRICT row (BENCH_NOOP_STRICT=1).
    if task_get("bench_noop") is None:

        @task(
            name="bench_noop",
            params=NoParams,
            timeout=30,
            max_attempts=1,
            idempotent=os.environ.get("BENCH_NOOP_STRICT") != "1",
        )
        def bench_noop(params: NoParams, ctx: TaskContext) -> dict[str, bool]:
            """Does nothing."""
            return {"ok": True}

    from functions.worker.handler import handler

    owner = User.objects.create_user(username=f"bench-{uuid.uuid4().hex[:8]}")
    arn = "arn:aws:sqs:us-east-1:123456789012:bench-jobs"

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 900_000

    statements = 0
    health_checks = 0
    db_seconds = 0.0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements, db_seconds
        statements += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            db_seconds += time.perf_counter() - started

    connection.ensure_connection()
    original_is_usable = connection.is_usable

    def counted_is_usable() -> bool:
        nonlocal health_checks
        health_checks += 1
        return original_is_usable()

    connection.is_usable = counted_is_usable  # type: ignore[method-assign]
    publishes = all_publishes = 0
    sns = sns_publisher()
    original_publish = sns.send_batch

    def counted_publish(**kwargs: Any) -> Any:
        nonlocal publishes, all_publishes
        publishes += 1
        all_publishes += 1
        return original_publish(**kwargs)

    sns.send_batch = counted_publish  # type: ignore[method-assign]

    def one_round(jobs: int, *, discard_events: bool = False) -> dict[str, float]:
        nonlocal statements, health_checks, publishes, db_seconds
        settings.JOB_EVENTS_TOPIC_ARN = "" if discard_events else topic
        now = timezone.now()
        created = Job.objects.bulk_create(
            [
                Job(owner=owner, task="bench_noop", params={}, max_attempts=1, seq=1, enqueued_at=now)
                for _ in range(jobs)
            ]
        )
        events = []
        for start in range(0, jobs, BATCH):
            records = []
            for job in created[start : start + BATCH]:
                body = JobMessage(job_id=job.pk, task="bench_noop", attempt=0).model_dump_json()
                records.append(
                    {
                        "messageId": str(uuid.uuid4()),
                        "receiptHandle": "AQEB" + uuid.uuid4().hex,
                        "body": body,
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
                        "messageAttributes": {},
                        "md5OfBody": "",
                        "eventSource": "aws:sqs",
                        "eventSourceARN": arn,
                        "awsRegion": "us-east-1",
                    }
                )
            events.append({"Records": records})
        statements = health_checks = publishes = 0
        db_seconds = 0.0
        failures = 0
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            for event in events:
                failures += len(handler(event, Context())["batchItemFailures"])
            elapsed = time.perf_counter() - started
        done = Job.objects.filter(pk__in=[job.pk for job in created], status=JobStatus.SUCCEEDED).count()
        if failures or done != jobs:
            raise RuntimeError(f"{failures} failures, {done}/{jobs} succeeded")
        return {
            "jobs_per_second": jobs / elapsed,
            "round_trips_per_job": (statements + health_checks) / jobs,
            "statements_per_job": statements / jobs,
            "publish_calls_per_batch": publishes / (jobs / BATCH),
            "db_ms_per_job": db_seconds * 1000 / jobs,
        }

    def floor(round_trips: float) -> float:
        """Jobs/s if a job cost only its round trips, as bare SELECT 1 statements."""
        with connection.cursor() as cursor:
            started = time.perf_counter()
            for _ in range(max(1, round(JOBS_PER_ROUND * round_trips))):
                cursor.execute("SELECT 1")
                cursor.fetchone()
            return JOBS_PER_ROUND / (time.perf_counter() - started)

    one_round(200)  # warm-up: imports, connection, moto's first topic calls
    rounds = [one_round(JOBS_PER_ROUND) for _ in range(ROUNDS)]
    logging.disable(logging.WARNING)  # "topic not configured" warnings while events are discarded
    silent = [one_round(JOBS_PER_ROUND, discard_events=True) for _ in range(ROUNDS)]
    logging.disable(logging.NOTSET)
    round_trips = statistics.median(r["round_trips_per_job"] for r in rounds)
    floors = [floor(round_trips) for _ in range(3)]
    return {
        "vendor": vendor,
        "jobs_per_second": statistics.median(r["jobs_per_second"] for r in rounds),
        "round_trips_per_job": round_trips,
        "statements_per_job": statistics.median(r["statements_per_job"] for r in rounds),
        "publish_calls_per_batch": statistics.median(r["publish_calls_per_batch"] for r in rounds),
        "floor_jobs_per_second": statistics.median(floors),
        "no_events_jobs_per_second": statistics.median(r["jobs_per_second"] for r in silent),
        "db_ms_per_job": statistics.median(r["db_ms_per_job"] for r in rounds),
        "publish_calls": all_publishes,
    }


# --- the parent: moto, databases, children, the table -------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_url() -> str | None:
    result = subprocess.run(
        ["bash", str(REPO / "infra/scripts/postgres.sh")], capture_output=True, text=True, check=False
    )
    return result.stdout.strip().splitlines()[-1] if result.returncode == 0 and result.stdout.strip() else None


def _postgres_database(url: str, name: str, *, drop: bool = False) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"' if drop else f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def _fresh_database(vendor: str, pg: str | None) -> Iterator[str]:
    """A new, empty database for one child: each tree migrates its own schema (the baseline's lacks
    the columns the current tree added)."""
    if vendor == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    assert pg is not None
    name = f"polyglot_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = _postgres_database(pg, name)
    try:
        yield url
    finally:
        _postgres_database(pg, name, drop=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _PacedChild:
    """One child process of ``tree``, run round by round: ``step()`` lets it run its next round and
    returns the seconds that round's handler calls took; after the last, ``result`` is its JSON."""

    def __init__(self, vendor: str, url: str, env: dict[str, str], moto_pid: int, tree: Path, rounds: int) -> None:
        self.label = vendor
        self.rounds_left = 1 + 2 * rounds  # the warm-up, the rounds with events, those without
        self.moto_pid = moto_pid
        self.moto_cpu = 0.0  # moto's CPU while this child ran its rounds
        self.result: dict[str, Any] = {}
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, vendor, url, str(rounds), str(JOBS_PER_ROUND)],
            cwd=tree,
            env={**env, "PYTHONPATH": str(tree)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        self._wait()  # set up and migrated: at its first round

    def _wait(self) -> float:
        assert self.process.stdout is not None
        while line := self.process.stdout.readline():
            if line.startswith("WAIT "):
                return float(line.split()[1])
        self.process.wait(timeout=60)
        self.stderr.seek(0)
        raise RuntimeError(f"{self.label} child failed:\n{self.stderr.read()[-3000:].decode()}")

    def step(self) -> float:
        assert self.process.stdin is not None
        moto_cpu = _cpu_seconds(self.moto_pid)
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        seconds = self._wait()
        self.moto_cpu += _cpu_seconds(self.moto_pid) - moto_cpu
        self.rounds_left -= 1
        if self.rounds_left == 0:  # its floors are measured: done, and gone before the other runs
            assert self.process.stdout is not None  # read through its buffer: the JSON may be in it already
            out = self.process.stdout.read()
            self.process.wait(timeout=60)
            self.result = dict(json.loads(out.strip().splitlines()[-1]))
            # The emulator's CPU per PublishBatch, over the child's rounds.
            self.result["moto_ms_per_publish"] = self.moto_cpu * 1000 / max(1, self.result.get("publish_calls", 0))
        return seconds

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # the child this object started, by its handle
            self.process.wait(timeout=10)
        self.stderr.close()


def _plain_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto as shipped (its ``moto_server``), for the comparison row."""
    port = _free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):  # bounded: moto starts in well under 10 s
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    return process, f"http://127.0.0.1:{port}"


def _aws_env(endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }


def _configurations(pg: str | None) -> list[tuple[str, str, dict[str, str]]]:
    """(label, vendor, extra environment) of every configuration compared with the baseline."""
    configurations: list[tuple[str, str, dict[str, str]]] = [("sqlite", "sqlite", {})]
    if pg is not None:
        # The no-op is idempotent, so its ends wait to be written with the batch's others; STRICT
        # declares it not, and each job's end is written before the next task starts.
        configurations += [("postgresql", "postgresql", {}), (STRICT, "postgresql", {"BENCH_NOOP_STRICT": "1"})]
    return configurations


def _turns(children: dict[Side, _PacedChild]) -> Callable[[Side], float]:
    return lambda side: children[side].step()


@dataclass
class Measured:
    """One configuration: this tree's child's figures, and both trees' jobs/s round by round (the
    rounds with events, in pair order)."""

    label: str
    result: dict[str, Any]
    current: list[float]
    baseline: list[float]


def _compare(
    trees: dict[Side, Path], env: dict[str, str], moto_pid: int, pg: str | None, rounds: int = ROUNDS
) -> list[Measured]:
    """Every configuration: a child of each tree, each against its own fresh database and the same
    moto, taking turns round by round (``bench.interleave``)."""
    measured = []
    for label, vendor, extra in _configurations(pg):
        with _fresh_database(vendor, pg) as current_url, _fresh_database(vendor, pg) as baseline_url:
            children: dict[Side, _PacedChild] = {}
            try:
                urls: dict[Side, str] = {"current": current_url, "baseline": baseline_url}
                for side, url in urls.items():
                    children[side] = _PacedChild(label, url, {**env, **extra}, moto_pid, trees[side], rounds)
                current, baseline = run_interleaved(1 + 2 * rounds, _turns(children))
            finally:
                for child in children.values():
                    child.close()
        events = slice(1, 1 + rounds)  # not the warm-up, not the rounds without events
        measured.append(
            Measured(
                label,
                children["current"].result,
                [JOBS_PER_ROUND / s for s in current[events]],
                [JOBS_PER_ROUND / s for s in baseline[events]],
            )
        )
    return measured


def _comparison_lines(compared: list[Measured], current: str, baseline: str) -> list[str]:
    lines = [
        f"| configuration | {current} jobs/s | {baseline} jobs/s | ratio {current} / {baseline} | verdict |",
        "|---|---:|---:|---:|---|",
    ]
    for m in compared:
        comparison = compare(m.current, m.baseline, NO_REGRESSION)
        lines.append(
            f"| {m.label} | {median_range(comparison.current)} | {median_range(comparison.baseline)} | "
            f"{median_range(comparison.ratios, '.3f')} | **{comparison.verdict}** |"
        )
    return lines


def run() -> str:
    from infra.local.moto_server import MotoServer

    # The topic lives in moto as the local stack runs it (infra/local/moto_speedups.py).
    moto = MotoServer(services=("sns",))
    moto.launch()
    env = _aws_env(moto.wait())
    assert moto.process is not None
    moto_pid = moto.process.pid
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        pg = _postgres_url()
        if pg is None:
            notes.append("PostgreSQL was not available: its rows are missing.")
        with baseline_tree(WORKER_BASELINE, CHILD_PATHS) as tree:
            compared = _compare({"current": REPO, "baseline": tree}, env, moto_pid, pg)
        results += [m.result for m in compared]
        if pg is not None:
            # The first PostgreSQL row again against moto as shipped, whose PublishBatch costs several
            # times more: this tree only.
            plain, plain_endpoint = _plain_moto()
            try:
                with _fresh_database("postgresql", pg) as url:
                    child = _PacedChild(PLAIN_MOTO, url, _aws_env(plain_endpoint), plain.pid, REPO, PLAIN_ROUNDS)
                    try:
                        while child.rounds_left:
                            child.step()
                    finally:
                        child.close()
                    results.append(child.result)
            finally:
                plain.terminate()  # the process this benchmark started, by its handle
                plain.wait(timeout=10)
    finally:
        moto.stop()

    load_after = os.getloadavg()[0]
    minutes = (time.monotonic() - started) / 60
    lines = [
        f"{JOBS_PER_ROUND:,} no-op jobs per round, handler called in-process with batches of {BATCH}; events to "
        "an SNS topic in moto, in its own process, as the local stack runs it; `CONN_MAX_AGE=60` as on Lambda. "
        f"Each configuration runs two child processes, one of this tree and one of the baseline "
        f"(`{WORKER_BASELINE[:7]}`), each against its own fresh database; they take turns round by round: a warm-up "
        f"of 200 jobs, {ROUNDS} rounds with events, {ROUNDS} with events discarded.",
        "",
        f"### No regression against `{WORKER_BASELINE[:7]}`",
        "",
        f"The baseline is the code before issue 16 (job queues, the django-tasks backend, quota, retry options, "
        f"the worker core's refactor): `{WORKER_BASELINE[:7]}`'s {', '.join(CHILD_PATHS)}, unpacked with "
        "`git archive` and run by the same Python with its own `bench/bench_worker.py` child, against the same "
        "moto. The two children never run at once: each round of one is followed by a round of the other, "
        "in pairs whose first side alternates (this tree then the baseline, the baseline then this tree, ...), "
        f"so a load that comes and goes hits both alike. Figures: jobs/s of the {ROUNDS} rounds with events, "
        "median (min–max); the ratio is taken pair by pair (adjacent rounds), then its median. Verdict: "
        f"**no regression** when the median ratio is ≥ {NO_REGRESSION:.2f}.",
        "",
        *_comparison_lines(compared, "this tree", WORKER_BASELINE[:7]),
        "",
        AA_NOISE,
        "",
        "### This tree",
        "",
        f"The figures of this tree's children above (medians of their rounds); the moto-as-shipped row: one more "
        f"child of this tree, {PLAIN_ROUNDS} rounds. Jobs/s in short rounds taken in turns come out higher than "
        "in the 1,000-job rounds back to back this section measured before 2026-12-05 09:00 (545, 629 and 393 "
        "then): compare the ratios above, not these figures across runs.",
        "",
        "| database | jobs/s | jobs/s, events discarded | DB round trips / job | of which statements "
        "| DB time / job (statements) | PublishBatch calls / batch | moto CPU / PublishBatch | DB-only floor jobs/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['vendor']} | {r['jobs_per_second']:,.0f} | {r['no_events_jobs_per_second']:,.0f} | "
            f"{r['round_trips_per_job']:.2f} | {r['statements_per_job']:.2f} | {r['db_ms_per_job']:.2f} ms | "
            f"{r['publish_calls_per_batch']:.2f} | {r['moto_ms_per_publish']:.1f} ms | "
            f"{r['floor_jobs_per_second']:,.0f} |"
        )
    lines.append("")
    for vendor, label in (("postgresql", "the no-op, declared idempotent"), (STRICT, "a task not declared idempotent")):
        row = next((r for r in results if r["vendor"] == vendor), None)
        if row is None:
            continue
        met = row["jobs_per_second"] >= TARGET_JOBS_PER_SECOND and row["round_trips_per_job"] <= TARGET_ROUND_TRIPS
        lines.append(
            f"Target on PostgreSQL (≥ {TARGET_JOBS_PER_SECOND} jobs/s and ≤ {TARGET_ROUND_TRIPS} round trips per job, "
            f"claim to finish), {label}: **{'met' if met else 'NOT met'}** "
            f"({row['jobs_per_second']:,.0f} jobs/s, {row['round_trips_per_job']:.2f} round trips)."
        )
        lines.append("")

    lines += [
        "*jobs/s, events discarded*: the same rounds with no topic configured, which isolates what publishing "
        "costs. *moto CPU / PublishBatch*: the moto process's CPU time during the child's rounds, per call. "
        "*DB-only floor*: jobs/s if a job cost nothing but its round trips, as bare `SELECT 1`. "
        f"*{PLAIN_MOTO}*: the first PostgreSQL row again, the topic in moto as shipped (`moto_server`), whose "
        "generic request parser and serializer cost several times what the stack's PublishBatch path does.",
        "",
        "Per batch of 10: the claim of every job (one `UPDATE ... RETURNING`), then the ends. The no-op is "
        "declared idempotent (`@task(idempotent=True)`: safe to run twice), so its ends wait to be written "
        "together (`WORKER_IDEMPOTENT_FLUSH_SECONDS`, 0.25 s): 2 statements for 10 jobs; a worker killed "
        f"mid-batch may run such a task again. *{STRICT}*: each job's end is written before the next task "
        "starts (`UPDATE ... RETURNING id`), so a finished task never runs again: 11 statements and 11 commits "
        "for 10 jobs; those written before another task commit with `synchronous_commit` off (the UPDATE sets "
        "it for its own transaction) and the last one synchronously, which flushes the WAL for all of them "
        "before the handler returns. A kept connection that answered within "
        "`DATABASE_HEALTH_CHECK_TRUST_SECONDS` (1 s) is not pinged again. The 10 `job.running` events leave as "
        "one PublishBatch on a background thread right after the claim (overlapping the tasks), the 10 final "
        "ones at the end, through `django_app/jobs/sns_publisher.py` (one signed POST, no boto3 request "
        "pipeline); the handler waits for both before it returns.",
        "",
        f"Run {date}. Load average (1 min) at the start and the end of the run: {load_before:.1f} and "
        f"{load_after:.1f} on "
        f"{os.cpu_count()} cores; the figures move with it. The run took {minutes:.1f} min.",
        *notes,
    ]
    return "\n".join(lines)


def run_aa(rounds: int = ROUNDS) -> str:
    """The baseline against itself, interleaved as in :func:`run`: the noise a ratio carries on this
    machine under its present load, which the threshold has to leave room for."""
    from infra.local.moto_server import MotoServer

    moto = MotoServer(services=("sns",))
    moto.launch()
    env = _aws_env(moto.wait())
    assert moto.process is not None
    load_before = os.getloadavg()[0]
    try:
        with baseline_tree(WORKER_BASELINE, CHILD_PATHS) as tree:
            compared = _compare({"current": tree, "baseline": tree}, env, moto.process.pid, _postgres_url(), rounds)
    finally:
        moto.stop()
    return "\n".join(
        [
            *_comparison_lines(compared, "A", "B"),
            "",
            f"A/A: `{WORKER_BASELINE[:7]}` against itself, {rounds} pairs of rounds; load average (1 min) "
            f"{load_before:.1f} then {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        ]
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3])))
    elif len(sys.argv) in (2, 3) and sys.argv[1] == "--aa":
        print(run_aa(*(int(arg) for arg in sys.argv[2:])))
    else:
        print(run())
