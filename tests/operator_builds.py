"""What the operators' CLIs build, built once per test session and read by every test that needs it:
``osls package`` of a stage (the deploy tests, the rehearsal) and ``make package``'s Zappa artifact
of dev (the artifact tests, the rehearsal).

Packaging is the slowest step of ``make test``: osls zips each function's requirements in
JavaScript, so a stage costs about a minute of CPU (docs/benchmarks.md). Built once per reader, it
was paid three times for dev. Stages are packaged one after the other, never at once: osls and its
requirements plugin stage files in the service's own ``.serverless`` folder.

osls is a Node tool: without ``npm ci`` these builds cannot run, and in CI that is a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


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


@pytest.fixture(scope="session")
def osls_package(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``osls_package(stage)``: the folder ``npx osls package --stage <stage> --package`` wrote,
    built at the first call for that stage. Readers must not change it (copy it first)."""
    from infra.rehearse import osls

    built: dict[str, Path] = {}

    def package(stage: str) -> Path:
        require_osls()
        if stage not in built:
            work = tmp_path_factory.mktemp(f"osls-{stage}")
            # osls.package points AWS_ENDPOINT_URL at a closed port with fake credentials: any AWS
            # call fails.
            built[stage] = osls.package(stage=stage, into=work / "package", log=work / "osls.log")
        return built[stage]

    return package


@pytest.fixture(scope="session")
def zappa_dev_artifact() -> Path:
    """``build/zappa-dev.zip`` as ``make package`` builds it. Readers must not change it."""
    from infra.package import build

    return build("dev")
