"""The Lambda Python runtime: one value, read where each tool needs it.

``serverless.yml`` holds it once, as ``custom.pythonVersion`` (``'3.11'``), and derives from it
the provider's ``runtime``, serverless-python-requirements' ``pythonBin`` and the wheels'
``--python-version``. ``zappa_settings.json`` cannot refer to another file, so its ``runtime``
repeats the value and ``python -m infra.check`` (rule ``runtime``) fails when they differ.
``make package`` compiles the Django function's unchecked-hash bytecode with the interpreter it
runs on, and bytecode is specific to one Python minor version: it refuses any other interpreter
(``require_interpreter``), and the same rule makes ``make check-config`` say so first.

Moving to another runtime: docs/operations.md ("Changing the Python runtime").
"""

from __future__ import annotations

import re
import sys

_RUNTIME = re.compile(r"python(3\.\d+)")
# Node runtimes Lambda still supports for new functions (nodejs20.x is deprecated there); the
# webhooks bundle targets Node 20, what local machines run, and so runs on each of these.
NODE_RUNTIMES = ("nodejs22.x", "nodejs24.x")


class RuntimeMismatch(Exception):
    """The interpreter cannot build for the configured runtime."""


def runtime_version(runtime: str) -> str | None:
    """``python3.11`` → ``3.11``; None for anything that is not a Lambda Python runtime name."""
    match = _RUNTIME.fullmatch(runtime)
    return match.group(1) if match else None


def is_node(runtime: str) -> bool:
    return runtime.startswith("nodejs")


def interpreter_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def interpreter_problem(runtime: str) -> str | None:
    """Why this interpreter cannot build bytecode for ``runtime``, or None when it can."""
    wanted = runtime_version(runtime)
    if wanted is None:
        return f"runtime {runtime!r} is not a Lambda Python runtime (pythonX.Y)"
    if wanted != interpreter_version():
        return (
            f"the runtime is {runtime} but this is Python {interpreter_version()} ({sys.executable}): "
            f".pyc files are specific to one Python version, so package with Python {wanted} "
            f"(recreate .venv with PYTHON=python{wanted})"
        )
    return None


def require_interpreter(runtime: str) -> None:
    problem = interpreter_problem(runtime)
    if problem:
        raise RuntimeMismatch(problem)
