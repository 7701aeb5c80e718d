"""CPU time of a process tree, read from ``/proc``: what the local stack's processes spend, summed
and per role (moto, the orchestrator, each function's containers), between two snapshots.

A snapshot holds every live descendant of a root PID with its user + system time. Processes that
start between two snapshots count from zero; the local stack keeps its containers and moto alive
while it runs, so what a job costs is the difference of the two snapshots.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessCpu:
    pid: int
    role: str
    seconds: float


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name sits in parentheses and may hold spaces: the fields after it are fixed.
    return text[text.rindex(")") + 2 :].split()


def _cmdline(pid: int) -> list[str]:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def role_of(argv: list[str]) -> str:
    """What a stack process is, from its command line: the function a container runs (runtime.py and
    runtime.mjs name it after the handler), moto, or the orchestrator itself."""
    joined = " ".join(argv)
    if "moto_server" in joined or "moto.server" in joined:
        return "moto"
    for index, part in enumerate(argv):
        if part.endswith(("runtime.py", "runtime.mjs")) and len(argv) > index + 3:
            return f"function {argv[index + 3]}"
    if "infra.local" in joined:
        return "orchestrator"
    return Path(argv[0]).name if argv else "?"


def _children(by_parent: dict[int, list[int]], root: int) -> list[int]:
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(by_parent.get(pid, []))
    return found


def snapshot(root: int) -> dict[int, ProcessCpu]:
    """Every live process under ``root`` (itself included) with its CPU seconds so far."""
    by_parent: dict[int, list[int]] = defaultdict(list)
    stats: dict[int, list[str]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None:
            continue
        stats[int(entry.name)] = fields
        by_parent[int(fields[1])].append(int(entry.name))  # field 4 of stat(5): the parent PID
    tree: dict[int, ProcessCpu] = {}
    for pid in _children(by_parent, root):
        fields = stats.get(pid)
        if fields is None:
            continue
        ticks = int(fields[11]) + int(fields[12])  # utime + stime, fields 14 and 15 of stat(5)
        tree[pid] = ProcessCpu(pid, role_of(_cmdline(pid)), ticks / _TICKS_PER_SECOND)
    return tree


def spent_by_role(before: dict[int, ProcessCpu], after: dict[int, ProcessCpu]) -> dict[str, float]:
    """CPU seconds per role between two snapshots of the same tree."""
    spent: dict[str, float] = defaultdict(float)
    for pid, now in after.items():
        earlier = before.get(pid)
        spent[now.role] += now.seconds - (earlier.seconds if earlier else 0.0)
    return dict(spent)
