"""The browser client's own unit tests (tests/js, node's test runner), run as part of pytest."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.node import node_executable

REPO = Path(__file__).resolve().parents[2]


def test_jobs_client_unit_tests_pass() -> None:
    node = node_executable()
    result = subprocess.run(
        [node, "--test", "tests/js/"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
