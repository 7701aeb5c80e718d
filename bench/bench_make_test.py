"""``make test``'s wall time, step by step, in a clean clone of HEAD: what a contributor on a fresh
checkout waits for, and what CI runs after its system packages (``.ci/run``).

Each step is the Makefile's own target, run in turn with ``CI=true`` (a missing dependency fails):
the set-up (``make venv node``: the virtualenv and ``npm ci``, from the registries' caches on this
machine), ``lint``, ``test-webhooks``, ``test-sqlite`` and ``test-postgres``. A step that fails
stops the run: the time of a failed run means nothing. One run (it takes as long as the suite), so
the load average around it is printed with it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

TITLE = "`make test`: wall time in a clean clone, step by step"
REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 12 * 60
STEP_TIMEOUT = 60 * 60
STEPS = [
    ("set-up: .venv and node_modules (`make venv node`)", ["venv", "node"]),
    ("lint: ruff, mypy (`make lint`)", ["lint"]),
    ("webhooks: tsc, eslint, node's tests (`make test-webhooks`)", ["test-webhooks"]),
    ("SQLite pass: every test (`make test-sqlite`)", ["test-sqlite"]),
    ("PostgreSQL pass: the database tests again (`make test-postgres`)", ["test-postgres"]),
]


def _git(*arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def _timed_steps(clone: Path) -> list[tuple[str, float]]:
    env = {**os.environ, "CI": "true"}
    env.pop("VIRTUAL_ENV", None)
    timings = []
    for label, targets in STEPS:
        started = time.monotonic()
        completed = subprocess.run(
            ["make", "-C", str(clone), *targets],
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        if completed.returncode != 0:
            raise SystemExit(f"{label} failed:\n{(completed.stdout + completed.stderr)[-4000:]}")
        timings.append((label, time.monotonic() - started))
        print(f"  {label}: {timings[-1][1]:.1f} s", flush=True)
    return timings


def run() -> str:
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    work = Path(tempfile.mkdtemp(prefix="bench-make-test-"))
    try:
        clone = work / "clone"
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True)
        load_before = os.getloadavg()[0]
        timings = _timed_steps(clone)
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    total = sum(seconds for _, seconds in timings)
    tests_alone = total - timings[0][1]
    rows = [f"| {label} | {seconds:.0f} s |" for label, seconds in timings]
    rows.append(f"| **`make test` from a clean clone** | **{_minutes(total)}** |")
    rows.append(f"| **`make test` once installed** (the steps after the set-up) | **{_minutes(tests_alone)}** |")

    def verdict(seconds: float) -> str:
        return "**met**" if seconds <= TARGET_SECONDS else "**missed**"

    return "\n".join(
        [
            "| step | wall time |",
            "|---|---:|",
            *rows,
            "",
            f"Target ≤ 12 min on 2 cores: from a clean clone {verdict(total)}, once installed {verdict(tests_alone)}.",
            "",
            f"Commit `{commit}`{' (the working tree had uncommitted changes; the clone has none)' if dirty else ''},"
            f" run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average (1 min) at the start and"
            f" the end: {load_before:.1f} and {load_after:.1f} on {os.cpu_count()} cores. One run: the figure"
            " moves with the machine and its load.",
        ]
    )
