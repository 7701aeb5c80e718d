"""Node for the tests that run node's test runner: a missing node is a skip locally, a failure in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is required in CI")
        pytest.skip("node is not installed")
    return node
