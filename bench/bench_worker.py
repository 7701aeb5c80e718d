"""Worker throughput: the Lambda handler called in-process with SQS batches of 10 for a no-op task,
on SQLite and on PostgreSQL, job events published to a moto SNS topic (PublishBatch).

Each database runs in its own child process (Django is configured once per process), against its
own fresh database; moto runs in a separate process so its request handling does not share the
worker's GIL. Counted: jobs/s from claim to finish, and database round trips per job: every
statement through Django's cursor (``connection.execute_wrapper``) plus the connection health
checks (``SELECT 1`` outside the cursor) that ``close_old_connections`` triggers per record.

The baseline is the database alone: the same number of round trips per job as the worker made,
as bare ``SELECT 1`` statements, so the ratio says how much the worker adds on top of its queries.

``python -m bench worker``; a child: ``python -m bench.bench_worker --child sqlite|postgresql URL``.
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
from pathlib import Path
from typing import Any

TITLE = "Worker throughput: no-op jobs through the SQS handler (batches of 10)"
REPO = Path(__file__).resolve().parents[1]
JOBS_PER_ROUND = 1_000
ROUNDS = 5
BATCH = 10
TARGET_JOBS_PER_SECOND = 500
TARGET_ROUND_TRIPS = 4
STRICT = "postgresql, task not declared idempotent"
PLAIN_MOTO = "postgresql, moto as shipped"


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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_child(vendor: str, url: str, env: dict[str, str], moto_pid: int) -> dict[str, Any]:
    moto_cpu = _cpu_seconds(moto_pid)
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_worker", "--child", vendor, url],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{vendor} child failed:\n{result.stderr[-3000:]}")
    measured = dict(json.loads(result.stdout.strip().splitlines()[-1]))
    # The emulator's CPU per PublishBatch, over every call the child made (topic set-up included).
    measured["moto_ms_per_publish"] = (_cpu_seconds(moto_pid) - moto_cpu) * 1000 / max(1, measured["publish_calls"])
    return measured


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
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(_run_child("sqlite", f"sqlite:///{tmp}/bench.sqlite3", env, moto_pid))
        pg = _postgres_url()
        if pg is None:
            notes.append("PostgreSQL was not available: its rows are missing.")
        else:
            # The no-op is idempotent, so its ends wait to be written with the batch's others; STRICT
            # declares it not, and each job's end is written before the next task starts; the last
            # row is the first against moto as shipped, whose PublishBatch costs several times more.
            plain, plain_endpoint = _plain_moto()
            try:
                for vendor, extra, moto_env, pid in (
                    ("postgresql", {}, env, moto_pid),
                    (STRICT, {"BENCH_NOOP_STRICT": "1"}, env, moto_pid),
                    (PLAIN_MOTO, {}, _aws_env(plain_endpoint), plain.pid),
                ):
                    name = f"polyglot_bench_{os.getpid()}"
                    try:
                        url = _postgres_database(pg, name)
                        results.append(_run_child(vendor, url, {**moto_env, **extra}, pid))
                    finally:
                        _postgres_database(pg, name, drop=True)
            finally:
                plain.terminate()  # the process this benchmark started, by its handle
                plain.wait(timeout=10)
    finally:
        moto.stop()

    load_after = os.getloadavg()[0]
    lines = [
        f"{JOBS_PER_ROUND:,} no-op jobs per round, {ROUNDS} rounds (median), handler called in-process with "
        f"batches of {BATCH}; events to an SNS topic in moto, in its own process, as the local stack runs it; "
        "`CONN_MAX_AGE=60` as on Lambda.",
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
        pg = next((r for r in results if r["vendor"] == vendor), None)
        if pg is None:
            continue
        met = pg["jobs_per_second"] >= TARGET_JOBS_PER_SECOND and pg["round_trips_per_job"] <= TARGET_ROUND_TRIPS
        lines.append(
            f"Target on PostgreSQL (≥ {TARGET_JOBS_PER_SECOND} jobs/s and ≤ {TARGET_ROUND_TRIPS} round trips per job, "
            f"claim to finish), {label}: **{'met' if met else 'NOT met'}** "
            f"({pg['jobs_per_second']:,.0f} jobs/s, {pg['round_trips_per_job']:.2f} round trips)."
        )
        lines.append("")
    lines += [
        "*jobs/s, events discarded*: the same rounds with no topic configured, which isolates what publishing "
        "costs. *moto CPU / PublishBatch*: the moto process's CPU time over the child's calls. *DB-only floor*: "
        "jobs/s if a job cost nothing but its round trips, as bare `SELECT 1`. "
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
        f"Load average (1 min) at the start and the end of the run: {load_before:.1f} and {load_after:.1f} on "
        f"{os.cpu_count()} cores; the figures move with it.",
        *notes,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3])))
    else:
        print(run())
