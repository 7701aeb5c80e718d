"""The webhooks service (functions/webhooks, Node): deliveries per second in one process, the bundled
handler's cold start against a bare Node handler (interleaved, in the same run), and the bundle's
size. The measuring is in the package's own scripts (scripts/bench-*.ts); this runs them several
times and reports the range."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

TITLE = "Webhooks service (Node): deliveries/s, cold start against bare Node, bundle size"
PACKAGE = Path(__file__).resolve().parents[1] / "functions" / "webhooks"
ROUNDS = 3
DELIVERIES_TARGET = 500  # per second, per process
COLD_START_TARGET = 5.0  # × a bare Node handler
BUNDLE_TARGET = 1024 * 1024
ROUND_TIMEOUT = 300


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not installed")
    return node


def _last_json(script: str) -> dict[str, object]:
    completed = subprocess.run(
        [_node(), f"build/scripts/{script}"],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        timeout=ROUND_TIMEOUT,
        check=True,
    )
    line = next(line for line in reversed(completed.stdout.splitlines()) if line.startswith("{"))
    return dict(json.loads(line))


def _span(values: list[float], fmt: str) -> str:
    low, high = min(values), max(values)
    return format(low, fmt) if format(low, fmt) == format(high, fmt) else f"{format(low, fmt)}–{format(high, fmt)}"


def run() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed")
    subprocess.run([npm, "run", "--silent", "compile"], cwd=PACKAGE, check=True, timeout=ROUND_TIMEOUT)
    deliveries: list[dict[str, object]] = []
    cold: list[dict[str, object]] = []
    for _ in range(ROUNDS):  # alternating, so a slow spell of the machine touches both
        deliveries.append(_last_json("bench-deliveries.js"))
        cold.append(_last_json("bench-cold-start.js"))
    rates = [float(str(d["deliveries_per_second"])) for d in deliveries]
    ratios = [float(str(c["ratio"])) for c in cold]
    bundle_ms = [float(str(c["bundle_median_ms"])) for c in cold]
    bare_ms = [float(str(c["bare_median_ms"])) for c in cold]
    size = int(str(cold[-1]["bundle_bytes"]))
    first = deliveries[0]
    rate_verdict = "met" if min(rates) >= DELIVERIES_TARGET else "missed"
    cold_verdict = "met" if max(ratios) <= COLD_START_TARGET else "missed"
    size_verdict = "met" if size <= BUNDLE_TARGET else "missed"
    return f"""\
{ROUNDS} rounds, each: {first["deliveries"]} deliveries at {first["concurrency"]} at a time, then
{cold[0]["runs_each"]} fresh `node` processes of each kind, alternating.

| measure | result | target | |
|---|---:|---:|---|
| deliveries/s, one process | {_span(rates, ",.0f")} | ≥ {DELIVERIES_TARGET} | {rate_verdict} |
| cold start, bundle: fresh `node` → first `api` event answered (median ms) | {_span(bundle_ms, ".0f")} | | |
| cold start, bare Node handler (median ms) | {_span(bare_ms, ".0f")} | | |
| cold start ratio, bundle / bare | {_span(ratios, ".2f")}× | ≤ {COLD_START_TARGET:.0f}× | {cold_verdict} |
| bundle (`dist/index.mjs`, SDK included) | {size / 1024:,.0f} KiB | ≤ {BUNDLE_TARGET // 1024:,} KiB | {size_verdict} |

The deliveries run the code the `deliver` handler runs (lease, Standard Webhooks signature, POST,
answer read, attempt recorded) with the package's in-memory store in place of DynamoDB: the figure is
the delivery path's own cost, not moto's. The receiver is a child process on 127.0.0.1.
"""
