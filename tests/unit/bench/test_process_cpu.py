"""bench.process_cpu: a process tree's CPU, per role, from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.process_cpu import role_of, snapshot, spent_by_role

BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ninput()"


def test_roles_come_from_the_command_line() -> None:
    assert role_of(
        ["python", "-I", "/r/infra/local/runtime.py", "/code", "h.handler", "polyglot-local-worker", "30"]
    ) == ("function polyglot-local-worker")
    assert role_of(
        ["node", "/r/infra/local/runtime.mjs", "/code", "dist/index.api", "polyglot-local-webhooksApi", "6"]
    ) == ("function polyglot-local-webhooksApi")
    assert role_of(["python", "-c", "...", "/r/infra/local/moto_server.py"]) == "moto"
    assert role_of(["python", "-m", "infra.local", "--http-port", "0"]) == "orchestrator"


def test_a_child_that_burns_cpu_between_snapshots_is_counted_and_an_idle_one_is_not() -> None:
    idle = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    busy = None
    try:
        time.sleep(0.5)  # the idle child's start-up is before the first snapshot
        before = snapshot(os.getpid())
        busy = subprocess.Popen([sys.executable, "-c", BUSY], stdin=subprocess.PIPE)
        time.sleep(1.5)
        after = snapshot(os.getpid())
        assert busy.pid in after
        assert idle.pid in after
        assert after[busy.pid].seconds >= 0.25
        assert after[idle.pid].seconds - before[idle.pid].seconds < 0.05
        assert sum(spent_by_role(before, after).values()) >= 0.25
    finally:
        for child in (idle, busy):
            if child is not None:
                child.communicate(b"\n", timeout=10)
