"""`make run`'s state folder is for its owner only (issue 17, finding 5): 0700, files 0600, what
an earlier run left behind included, and what the stack writes afterwards too (umask)."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.private_state import private_state_dir


@pytest.fixture
def restored_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_earlier_runs_state_becomes_private(tmp_path: Path, restored_umask: None) -> None:
    state = tmp_path / ".local"
    (state / "zappa" / "local-abc").mkdir(parents=True)
    for name in ("db.sqlite3", "secrets.json", "zappa/local-abc/zappa_settings.py"):
        (state / name).write_text("x")
        (state / name).chmod(0o644)
    for folder in (state, state / "zappa", state / "zappa" / "local-abc"):
        folder.chmod(0o755)
    private_state_dir(state)
    assert mode(state) == 0o700
    assert {str(p.relative_to(state)): mode(p) for p in state.rglob("*")} == {
        "db.sqlite3": 0o600,
        "secrets.json": 0o600,
        "zappa": 0o700,
        "zappa/local-abc": 0o700,
        "zappa/local-abc/zappa_settings.py": 0o600,
    }


def test_what_the_stack_writes_afterwards_is_private(tmp_path: Path, restored_umask: None) -> None:
    state = private_state_dir(tmp_path / "fresh" / ".local")
    assert mode(state) == 0o700
    with sqlite3.connect(state / "db.sqlite3") as db:  # as Django's migrate makes it
        db.execute("CREATE TABLE t (x)")
    (state / "stack.log").write_text("a log line\n")
    (state / "cache").mkdir()
    assert mode(state / "db.sqlite3") == 0o600
    assert mode(state / "stack.log") == 0o600
    assert mode(state / "cache") == 0o700
