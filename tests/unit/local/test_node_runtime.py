"""Node functions run as Lambda's Node runtime runs them (infra/local/runtime.mjs): the handler file
found by Lambda's rules, `await handler(event, context)`, errors as the invocation's result, the
function's output on the log stream and never in the protocol."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from infra.local.functions import FunctionConfig, FunctionPool
from infra.local.logstream import LogStream
from tests.node import node_executable

HANDLERS = """
export async function echo(event, context) {
  console.log("echoing", { request: context.awsRequestId });
  process.stdout.write("written to stdout\\n");
  return { event, name: context.functionName, remaining: context.getRemainingTimeInMillis() };
}
export async function boom() {
  throw new TypeError("no such thing");
}
export const notAFunction = 3;
"""


def _config(root: Path, handler: str) -> FunctionConfig:
    return FunctionConfig(
        name="probe",
        handler=handler,
        code_root=root,
        timeout=5,
        memory=128,
        environment={},
        runtime="nodejs22.x",
    )


async def _invoke(root: Path, handler: str, event: object) -> tuple[bool, object, object]:
    pool = FunctionPool(_config(root, handler), LogStream())
    try:
        invocation = await pool.invoke(event, trigger="test")
        return invocation.ok, invocation.result, invocation.error
    finally:
        await pool.close()


@pytest.fixture
def code_root(tmp_path: Path) -> Path:
    node_executable()
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.mjs").write_text(HANDLERS)
    return tmp_path


def test_a_node_handler_answers_with_its_result(code_root: Path) -> None:
    ok, result, _error = asyncio.run(_invoke(code_root, "dist/index.echo", {"n": 1}))
    assert ok
    assert isinstance(result, dict)
    assert result["event"] == {"n": 1}
    assert result["name"] == "probe"
    assert 0 < result["remaining"] <= 5000


def test_a_thrown_error_is_the_invocations_error(code_root: Path) -> None:
    ok, _result, error = asyncio.run(_invoke(code_root, "dist/index.boom", {}))
    assert not ok
    assert error == {"errorType": "TypeError", "errorMessage": "no such thing"}


@pytest.mark.parametrize("handler", ["dist/index.notAFunction", "dist/missing.echo"])
def test_a_handler_that_does_not_resolve_fails_init(code_root: Path, handler: str) -> None:
    with pytest.raises(Exception, match="init failed"):
        asyncio.run(_invoke(code_root, handler, {}))
