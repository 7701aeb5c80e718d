"""tests/conftest.py makes Hypothesis survive CPython's spurious ``SystemError`` from ``ast.parse``."""

from __future__ import annotations

import ast
import sys
from typing import Any

import pytest
from hypothesis.internal import lambda_sources


class _AstWhoseParseFails:
    """The ``ast`` module as Hypothesis' lambda_sources sees it, with the interpreter bug."""

    def __getattr__(self, name: str) -> Any:
        return getattr(ast, name)

    @staticmethod
    def parse(*args: object, **kwargs: object) -> None:
        raise SystemError("AST constructor recursion depth mismatch (before=270, after=297)")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the workaround is for CPython 3.11")
def test_a_lambda_whose_source_cannot_be_parsed_gets_the_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_sources, "ast", _AstWhoseParseFails())
    never_described = lambda value: value + 1  # noqa: E731 - a lambda is what is described

    assert lambda_sources.lambda_description(never_described) == "lambda: <unknown>"
