"""Test-process workarounds for CPython 3.11's ``SystemError: AST constructor recursion depth
mismatch`` from ``ast.parse`` (python/cpython#106905).

The interpreter's depth counter is shared between threads, so a parse that overlaps another
thread's conversion can fail although its source is fine. Any ``ast.parse`` in the test process
can be hit: Hypothesis describing the lambdas in a strategy's repr while drawing schemathesis'
cases, its filters, the traceback module's caret positions. Such errors failed CI runs as flaky
tests twice."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

# The counter is off only while the conversions overlap; a parse done again a moment later succeeds.
PARSE_TRIES = 5


def is_depth_bug(error: SystemError) -> bool:
    return "recursion depth mismatch" in str(error)


def retrying(parse: Callable[..., Any]) -> Callable[..., Any]:
    """``parse``, done again when it fails with the depth bug and no other error."""

    def retrying_parse(*args: Any, **kwargs: Any) -> Any:
        for _ in range(PARSE_TRIES - 1):
            try:
                return parse(*args, **kwargs)
            except SystemError as error:
                if not is_depth_bug(error):
                    raise
        return parse(*args, **kwargs)

    return retrying_parse


def placeholder_on_failure(describe: Callable[..., str]) -> Callable[..., str]:
    """Hypothesis' lambda description, or the placeholder it uses for a lambda whose source it
    cannot find: a description is only text."""

    def tolerant(f: Any, *args: Any, **kwargs: Any) -> str:
        try:
            return str(describe(f, *args, **kwargs))
        except SystemError:
            return "lambda: <unknown>"

    return tolerant


def tolerate() -> None:
    from hypothesis.internal import lambda_sources

    ast.parse = retrying(ast.parse)
    lambda_sources._lambda_description = placeholder_on_failure(lambda_sources._lambda_description)
