"""`make run` makes or resets the `demo` superuser only in its own SQLite database (issue 17,
finding 7): with DATABASE_URL naming another database it leaves that database's users alone."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.setup import NO_DEMO_USER, is_local_sqlite

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("sqlite:///{state}/db.sqlite3", True),
        ("sqlite:///{state}/nested/db.sqlite3", True),
        ("sqlite:///{state}/../elsewhere.sqlite3", False),
        ("sqlite:///{other}/db.sqlite3", False),
        ("sqlite:///:memory:", False),
        ("postgres://demo:pw@127.0.0.1:5432/production", False),
        ("not a url", False),
    ],
)
def test_only_the_stacks_own_sqlite_file_is_local(tmp_path: Path, url: str, local: bool) -> None:
    state, other = tmp_path / "state", tmp_path / "other"
    state.mkdir()
    assert is_local_sqlite(url.format(state=state, other=other), state) is local


def _prepare(database: Path, *, demo_user: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SSM_", "AWS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="django_app.config.settings.local",
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_SECRET_KEY="demo-user-test-only",
    )
    script = f"from infra.local.setup import prepare_django; prepare_django(demo_user={demo_user})"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _demo_password_hash(database: Path) -> str | None:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT password FROM auth_user WHERE username = 'demo'").fetchone()
    return None if row is None else str(row[0])


def test_another_database_gets_no_demo_user_and_a_message(tmp_path: Path) -> None:
    database = tmp_path / "someone-elses.sqlite3"
    refused = _prepare(database, demo_user=False)
    assert refused.returncode == 0, refused.stderr
    assert NO_DEMO_USER in refused.stderr
    assert _demo_password_hash(database) is None  # migrated, but no user made
    made = _prepare(database, demo_user=True)
    assert made.returncode == 0, made.stderr
    assert _demo_password_hash(database) is not None
