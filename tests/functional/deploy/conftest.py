"""osls is a Node tool: without `npm ci` these tests cannot run. In CI that is a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def require_osls() -> None:
    missing = [] if shutil.which("npx") else ["npx (Node.js 20.19+)"]
    if not (REPO / "node_modules" / "osls").is_dir():
        missing.append("node_modules/osls (run `npm ci`)")
    if not missing:
        return
    message = "osls is not installed: " + ", ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
