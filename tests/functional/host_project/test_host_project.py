"""Our accounts and jobs apps inside another Django project (tests/host_project): its own settings, a
user model keyed by UUID, its own task. The checks (tests/host_project/journey_checks.py) run in a
pytest of their own, since AUTH_USER_MODEL and INSTALLED_APPS are fixed once Django is set up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
CHECKS = "tests/host_project/journey_checks.py"
EXPECTED_CHECKS = 8


def run_host_checks(*, database_url: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    if database_url:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ds", "tests.host_project.settings", CHECKS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def assert_all_passed(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    # Every check ran (none skipped, none left uncollected).
    assert f"{EXPECTED_CHECKS} passed" in result.stdout, result.stdout[-3000:]
    assert "skipped" not in result.stdout


@pytest.mark.slow
def test_the_host_project_on_sqlite() -> None:
    assert_all_passed(run_host_checks(database_url=None))


@pytest.mark.postgres
def test_the_host_project_on_postgresql() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL (runs in the PostgreSQL pass: make test-postgres)")
    assert_all_passed(run_host_checks(database_url=url))
