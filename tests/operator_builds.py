"""What the operators' CLIs build, built once per test session and read by every test that needs it:
``osls package`` of a stage (the deploy tests, the rehearsal) and ``make package``'s Zappa artifact
of dev (the artifact tests, the rehearsal).

Packaging is the slowest step of ``make test`` (docs/benchmarks.md, the ``make test`` section):
osls zips each function's requirements in JavaScript, on one core. So each stage is packaged once,
not once per reader, and both stages at once, on two cores: dev from this repository, as operators run it (the
rehearsal deploys it), prod from a folder of links to it (``osls.linked_service_dir``), because osls
empties and fills its service's ``.serverless`` while it packages. The requirements plugin's cache
is filled first, so the two only read it.

osls is a Node tool: without ``npm ci`` these builds cannot run, and in CI that is a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The stages of serverless.yml's params; the first is packaged from this repository itself.
STAGES = ("dev", "prod")


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


def _package_every_stage(work: Path) -> dict[str, Path]:
    from infra.node_bundle import ensure_bundle
    from infra.rehearse import osls

    ensure_bundle()  # once, before the packages that ship it start side by side
    osls.install_requirements(stage=STAGES[0], log=work / "requirements.log")
    # osls.package points AWS_ENDPOINT_URL at a closed port with fake credentials: any AWS call fails.
    with ThreadPoolExecutor(max_workers=len(STAGES)) as pool:
        packaging = {
            stage: pool.submit(
                osls.package,
                stage=stage,
                into=work / stage / "package",
                log=work / f"osls-{stage}.log",
                service_dir=REPO if index == 0 else osls.linked_service_dir(work / stage / "service"),
            )
            for index, stage in enumerate(STAGES)
        }
        return {stage: future.result() for stage, future in packaging.items()}


@pytest.fixture(scope="session")
def osls_package(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``osls_package(stage)``: the folder ``npx osls package --stage <stage> --package`` wrote.
    Every stage is built at the first call. Readers must not change it (copy it first)."""
    built: dict[str, Path] = {}

    def package(stage: str) -> Path:
        require_osls()
        if not built:
            built.update(_package_every_stage(tmp_path_factory.mktemp("osls")))
        return built[stage]

    return package


@pytest.fixture(scope="session")
def zappa_dev_artifact() -> Path:
    """``build/zappa-dev.zip`` as ``make package`` builds it. Readers must not change it."""
    from infra.package import build

    return build("dev")
