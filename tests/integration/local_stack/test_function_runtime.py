"""Functions run as on Lambda: each in its own interpreter with only its package (the websocket and
push functions cannot import Django), and the event source mapping's delete rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from infra.check.config import REPO
from infra.local.config import SqsSource
from infra.local.functions import RUNTIME, Invocation
from infra.local.imports import blocked_modules
from infra.local.pollers import failed_ids

WEBSOCKET_ROOT = REPO / ".lambda" / "websocket"


def _init(code_root: Path, handler: str, blocked: tuple[str, ...]) -> dict[str, object]:
    command = [sys.executable, "-I", str(RUNTIME), str(code_root), handler, "probe", "5", "128"]
    if blocked:
        command += ["--block", *blocked]
    completed = subprocess.run(command, input="", capture_output=True, text=True, timeout=120, check=False)
    return dict(json.loads(completed.stdout.splitlines()[0]))


def test_the_websocket_package_cannot_import_django() -> None:
    blocked = blocked_modules(WEBSOCKET_ROOT / "requirements.txt")
    assert {"django", "django_app", "rest_framework"} <= set(blocked)
    assert "pydantic" not in blocked
    assert "fastapi" not in blocked
    assert blocked_modules(REPO / ".lambda" / "worker" / "requirements.txt") == ()

    refused = _init(WEBSOCKET_ROOT, "django.conf.settings", blocked)
    assert refused["ok"] is False
    assert "No module named 'django" in str(refused["init_error"])
    # The websocket function's own handler imports fine under the same rule.
    assert _init(WEBSOCKET_ROOT, "functions.websocket.handler.handler", blocked) == {"ok": True, "ready": True}


def _invocation(result: object, *, ok: bool = True) -> Invocation:
    return Invocation(ok=ok, result=result, error=None, duration_ms=1.0, request_id="r")


def test_only_reported_failures_come_back() -> None:
    source = SqsSource(function="f", queue="q", batch_size=10, window_seconds=0, report_failures=True)
    records = [{"messageId": name} for name in ("a", "b", "c")]

    assert failed_ids(source, _invocation({"batchItemFailures": [{"itemIdentifier": "b"}]}), records) == {"b"}
    assert failed_ids(source, _invocation({"batchItemFailures": []}), records) == set()
    assert failed_ids(source, _invocation({"batchItemFailures": None}), records) == set()
    assert failed_ids(source, _invocation(None), records) == set()
    # A malformed answer, or an error or a timeout, sends the whole batch back.
    assert failed_ids(source, _invocation({"batchItemFailures": [{"itemIdentifier": "zz"}]}), records) == {
        "a",
        "b",
        "c",
    }
    assert failed_ids(source, _invocation({"batchItemFailures": [{}]}), records) == {"a", "b", "c"}
    assert failed_ids(source, _invocation(None, ok=False), records) == {"a", "b", "c"}


def test_without_report_batch_item_failures_the_list_is_ignored() -> None:
    source = SqsSource(function="f", queue="q", batch_size=10, window_seconds=0, report_failures=False)
    records = [{"messageId": name} for name in ("a", "b")]

    assert failed_ids(source, _invocation({"batchItemFailures": [{"itemIdentifier": "b"}]}), records) == set()
    assert failed_ids(source, _invocation(None, ok=False), records) == {"a", "b"}
