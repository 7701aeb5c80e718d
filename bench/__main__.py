"""``python -m bench [NAME ...]``: run benchmarks and rewrite docs/benchmarks.md.

With names, only those run; the other sections keep their last results.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "benchmarks.md"
SECTION = re.compile(r"<!-- bench:(?P<name>\w+) -->\n(?P<body>.*?)<!-- /bench:(?P=name) -->\n", re.S)


def available() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in (REPO / "bench").glob("bench_*.py"))


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    packages = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    wanted = ("django==", "djangorestframework==", "zappa==", "fastapi==", "mangum==", "boto3==", "psycopg==")
    versions = ", ".join(line for line in packages if line.lower().startswith(wanted))
    return (
        f"- Machine: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}\n"
        f"- Python {platform.python_version()}; {versions}\n"
        f"- Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {', '.join(available())}")
    names = parser.parse_args().names or available()
    unknown = set(names) - set(available())
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    previous = {m["name"]: m["body"] for m in SECTION.finditer(RESULTS.read_text())} if RESULTS.exists() else {}
    sections = dict(previous)
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"== {name}: {module.TITLE}", flush=True)
        # Each section names its own machine and time: `python -m bench NAME` rewrites one section
        # and leaves the others, measured elsewhere or earlier, as they were.
        body = f"## {module.TITLE}\n\n{module.run().strip()}\n\n{machine()}\n"
        print(body, flush=True)
        sections[name] = body

    document = [
        "# Benchmarks\n\n",
        "Written by `make bench` (`python -m bench [NAME ...]`); do not edit by hand. Every figure is a\n",
        "median over repeated runs, and every target is a ratio against a baseline measured in the same run\n",
        "on the same machine, so the numbers compare across machines better than absolute times do. Each\n",
        "section ends with the machine it was measured on and when.\n\n",
    ]
    for name in available():
        if name in sections:
            document.append(f"<!-- bench:{name} -->\n{sections[name]}<!-- /bench:{name} -->\n")
    RESULTS.write_text("".join(document))
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
