"""tests/ast_depth_bug.py (installed by tests/conftest.py) makes the test process survive CPython's spurious
``SystemError`` from ``ast.parse``."""

from __future__ import annotations

import ast
import sys
from typing import Any

import pytest
from hypothesis.internal import lambda_sources

from tests import ast_depth_bug


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


def _parse_failing(errors: list[SystemError]) -> Any:
    def parse(source: str) -> ast.AST:
        if errors:
            raise errors.pop(0)
        return ast.Module(body=[], type_ignores=[])

    return parse


def test_a_parse_hit_by_the_depth_bug_is_done_again() -> None:
    errors = [SystemError("AST constructor recursion depth mismatch (before=174, after=192)")] * 2
    parse = ast_depth_bug.retrying(_parse_failing(errors))

    assert isinstance(parse("x = 1"), ast.Module)
    assert errors == []


def test_a_parse_that_keeps_failing_raises_in_the_end() -> None:
    errors = [SystemError("AST constructor recursion depth mismatch (before=1, after=2)")] * ast_depth_bug.PARSE_TRIES
    parse = ast_depth_bug.retrying(_parse_failing(errors))

    with pytest.raises(SystemError, match="recursion depth mismatch"):
        parse("x = 1")


def test_other_system_errors_from_parse_are_not_hidden() -> None:
    errors = [SystemError("something else")]
    parse = ast_depth_bug.retrying(_parse_failing(errors))

    with pytest.raises(SystemError, match="something else"):
        parse("x = 1")
