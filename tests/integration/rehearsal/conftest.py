"""The deploy rehearsal's own mark: `pytest -m rehearsal` runs only it, `-m "not rehearsal"` skips it."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rehearsal: deploys the osls stack to MiniStack and runs a job end to end")
