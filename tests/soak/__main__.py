"""``make soak``: the full soak on PostgreSQL; prints the table and writes docs/reliability.md.

``python -m tests.soak [--jobs N --clients N --users N --rate R --no-restart]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.soak.scenario import REPO, SoakConfig, run_soak

REPORT = REPO / "docs" / "reliability.md"


def _postgres_url() -> str:
    done = subprocess.run(
        ["bash", str(REPO / "infra/scripts/postgres.sh")], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"make soak needs PostgreSQL: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rate", type=float, default=12.0, help="jobs submitted per second")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds; 40%% of it must be left unused")
    parser.add_argument("--cpu-hogs", type=int, default=1, help="CPU-bound processes run beside the stack")
    parser.add_argument("--no-restart", action="store_true", help="do not restart PostgreSQL")
    parser.add_argument("--no-report", action="store_true", help="do not write docs/reliability.md")
    parser.add_argument("--work-dir", type=Path, help="keep the stack's state and log here (default: temporary)")
    args = parser.parse_args()
    config = SoakConfig(
        database_url=_postgres_url(),
        users=args.users,
        clients=args.clients,
        jobs=args.jobs,
        rate=args.rate,
        restart_postgres=not args.no_restart,
        time_limit=args.time_limit,
        cpu_hogs=args.cpu_hogs,
    )
    if args.work_dir:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        result = run_soak(config, work_dir=args.work_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="soak-") as work:
            result = run_soak(config, work_dir=Path(work))
    table = result.table()
    print(table)
    for line in result.function_errors[:20] + result.tally.http_5xx[:20] + result.missed_detail:
        print("  ", line)
    if not args.no_report:
        _write_report(table)
    return 0 if result.ok else 1


def _write_report(table: str) -> None:
    text = REPORT.read_text()
    start, end = "<!-- soak:start -->", "<!-- soak:end -->"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = f"{start}\nLast `make soak` ({stamp}, this 2-core machine):\n\n{table}\n{end}"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    REPORT.write_text(head + block + tail)


if __name__ == "__main__":
    sys.exit(main())
