"""One function container: what Lambda's Python runtime does, for the local stack.

Run by path (``python -I runtime.py <code-root> <module.function> <function-name> <timeout> <memory>
[<extra sys.path> ...] [--block <module> ...]``) so that nothing but the function's own package root
(and the installed requirements) is importable, as in /var/task. Standard library only.

Protocol: one JSON request per line on stdin (``{"event", "request_id"}``), one JSON answer per line
on the original stdout (``{"ok", "result"}`` or ``{"ok": false, "error"}``). The function's own
output (print, logging) goes to stderr, which the stack turns into its log stream.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import json
import logging
import os
import sys
import traceback
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))


class _Blocked(importlib.abc.MetaPathFinder):
    """Refuses modules a function's package does not ship (the websocket function has no Django)."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        for name in self.names:
            if fullname == name or fullname.startswith(name + "."):
                raise ModuleNotFoundError(f"No module named {fullname!r} (not in this function's package)")
        return None


def _load_context_class() -> Any:
    # infra/lambda_context.py, by path: the infra package is not importable from the function.
    spec = importlib.util.spec_from_file_location("_lambda_context", os.path.join(_HERE, "..", "lambda_context.py"))
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LambdaContext


# Lambda's advanced logging controls: its six levels, as the Python runtime maps them.
_LOG_LEVELS = {
    "TRACE": "DEBUG",
    "DEBUG": "DEBUG",
    "INFO": "INFO",
    "WARN": "WARNING",
    "ERROR": "ERROR",
    "FATAL": "CRITICAL",
}


def main() -> int:
    args = sys.argv[1:]
    blocked: list[str] = []
    if "--block" in args:
        blocked = args[args.index("--block") + 1 :]
        args = args[: args.index("--block")]
    code_root, handler_path, function_name, timeout, memory, *extra_paths = args
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # print() goes to the log stream, as on Lambda; the protocol keeps the real stdout
    sys.stdout = os.fdopen(1, "w", buffering=1)
    context_class = _load_context_class()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level:  # Lambda's advanced logging controls: the root logger's level (its default: WARNING)
        if level not in _LOG_LEVELS:
            message = f"AWS_LAMBDA_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, not {level!r}"
            protocol.write(json.dumps({"ok": False, "init_error": message}) + "\n")
            return 1
        logging.basicConfig(level=_LOG_LEVELS[level], format="%(levelname)s %(name)s %(message)s")
    os.chdir(code_root)
    sys.path[:0] = [code_root, *extra_paths]
    if blocked:
        sys.meta_path.insert(0, _Blocked(blocked))

    module_name, _, attribute = handler_path.rpartition(".")
    try:  # the init phase: imports and module-level set-up, once per container
        handler = getattr(importlib.import_module(module_name), attribute)
    except Exception as error:  # reported to the stack, which logs it and fails the invocation
        traceback.print_exc()
        protocol.write(json.dumps({"ok": False, "init_error": f"{type(error).__name__}: {error}"}) + "\n")
        return 1
    protocol.write(json.dumps({"ok": True, "ready": True}) + "\n")

    for line in sys.stdin:
        request = json.loads(line)
        context = context_class(
            function_name=function_name,
            timeout_seconds=float(timeout),
            memory_mb=int(memory),
            request_id=request["request_id"],
        )
        try:
            result = handler(request["event"], context)
            answer = {"ok": True, "result": result}
            text = json.dumps(answer, default=str)
        except Exception as error:  # Lambda reports an unhandled error as the invocation's result
            traceback.print_exc()
            text = json.dumps({"ok": False, "error": {"errorType": type(error).__name__, "errorMessage": str(error)}})
        sys.stdout.flush()
        sys.stderr.flush()
        protocol.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
