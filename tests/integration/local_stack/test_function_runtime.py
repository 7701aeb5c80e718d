"""Functions run as on Lambda: each in its own interpreter with only its package (the websocket and
push functions cannot import Django), and the event source mapping's delete rules."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.check.config import REPO
from infra.local.config import SqsSource
from infra.local.functions import RUNTIME, FunctionConfig, FunctionPool, Invocation
from infra.local.imports import blocked_modules
from infra.local.logstream import LogStream
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


HANDLERS = """
import os, time

def echo(event, context):
    return {"event": event, "request_id": context.aws_request_id, "function": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(), "pid": os.getpid()}

def slow(event, context):
    time.sleep(event["seconds"])
    return "done"

def broken(event, context):
    raise ValueError("no good")

def chatty(event, context):
    import logging
    logging.getLogger("probe").info("hello from %s", context.function_name)
    return "said"
"""


def _pool(tmp_path: Path, handler: str, *, timeout: float) -> Any:
    (tmp_path / "probe_handlers.py").write_text(HANDLERS)
    config = FunctionConfig(
        name="probe", handler=handler, code_root=tmp_path, timeout=timeout, memory=128, environment={},
        max_concurrency=1,
    )  # fmt: skip
    return FunctionPool(config, LogStream(io.StringIO()))


def test_a_container_is_reused_until_a_timeout_kills_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        echo = _pool(tmp_path, "probe_handlers.echo", timeout=5)
        first = await echo.invoke({"n": 1}, trigger="test")
        second = await echo.invoke({"n": 2}, trigger="test")
        assert first.ok
        assert first.result["event"] == {"n": 1}
        assert first.result["function"] == "probe"
        assert first.result["request_id"] == first.request_id != second.request_id
        assert 0 < first.result["remaining_ms"] <= 5000
        assert first.result["pid"] == second.result["pid"]  # warm: the same container
        await echo.close()

        slow = _pool(tmp_path, "probe_handlers.slow", timeout=0.5)
        timed_out = await slow.invoke({"seconds": 30}, trigger="test")
        assert not timed_out.ok
        assert timed_out.error == {"errorType": "Runtime", "errorMessage": "Task timed out"}
        assert slow.containers == []  # killed, as Lambda does
        assert (await slow.invoke({"seconds": 0}, trigger="test")).result == "done"
        await slow.close()

        broken = _pool(tmp_path, "probe_handlers.broken", timeout=5)
        failed = await broken.invoke({}, trigger="test")
        assert not failed.ok
        assert failed.error == {"errorType": "ValueError", "errorMessage": "no good"}
        await broken.close()

    asyncio.run(scenario())


def _invoke_once(tmp_path: Path, handler: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "probe_handlers.py").write_text(HANDLERS)
    command = [sys.executable, "-I", str(RUNTIME), str(tmp_path), handler, "probe", "5", "128"]
    request = json.dumps({"request_id": "r1", "event": {}}) + "\n"
    return subprocess.run(
        command, input=request, capture_output=True, text=True, timeout=60, env=environment, check=False
    )


def test_the_log_level_follows_lambdas_logging_controls(tmp_path: Path) -> None:
    """AWS_LAMBDA_LOG_LEVEL sets the root logger's level, as Lambda's advanced logging controls do;
    without it Python's default (WARNING) drops INFO lines."""
    chatty = _invoke_once(tmp_path, "probe_handlers.chatty", {"AWS_LAMBDA_LOG_LEVEL": "info"})
    quiet = _invoke_once(tmp_path, "probe_handlers.chatty", {})

    assert json.loads(chatty.stdout.splitlines()[-1]) == {"ok": True, "result": "said"}
    assert "INFO probe hello from probe" in chatty.stderr
    assert json.loads(quiet.stdout.splitlines()[-1]) == {"ok": True, "result": "said"}
    assert "hello from probe" not in quiet.stderr


def test_an_unknown_log_level_fails_the_init_with_a_clear_error(tmp_path: Path) -> None:
    refused = _invoke_once(tmp_path, "probe_handlers.chatty", {"AWS_LAMBDA_LOG_LEVEL": "loud"})
    traced = _invoke_once(tmp_path, "probe_handlers.chatty", {"AWS_LAMBDA_LOG_LEVEL": "TRACE"})

    answer = json.loads(refused.stdout.splitlines()[0])
    assert answer["ok"] is False
    assert (
        "AWS_LAMBDA_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, not 'LOUD'" in answer["init_error"]
    )
    assert refused.returncode == 1
    assert "INFO probe hello from probe" in traced.stderr  # TRACE is Python's DEBUG: INFO shows
