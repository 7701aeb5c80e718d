"""The second folder osls packages from (links to the service, its own ``.serverless``), and where
a function's zip is found in a ``--package`` folder whichever folder osls ran from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.rehearse import osls


def test_a_linked_service_dir_links_the_folders_copies_the_files_and_shares_no_serverless_folder(
    tmp_path: Path,
) -> None:
    service = osls.linked_service_dir(tmp_path / "service")
    assert {path.name for path in service.iterdir()} == set(osls.SERVICE_ENTRIES)
    for name in osls.SERVICE_ENTRIES:
        entry = service / name
        if (osls.REPO / name).is_dir():
            assert entry.is_symlink()
            assert entry.resolve() == (osls.REPO / name).resolve()
        else:  # osls refuses a linked config: a copy, byte for byte
            assert not entry.is_symlink()
            assert entry.read_bytes() == (osls.REPO / name).read_bytes()
    assert not (service / ".serverless").exists()
    with pytest.raises(FileExistsError):  # never packages over another run's folder
        osls.linked_service_dir(service)


def _package_dir(tmp_path: Path, artifacts: dict[str, str]) -> Path:
    package_dir = tmp_path / "package"
    package_dir.mkdir()
    functions = {name: {"package": {"artifact": artifact}} for name, artifact in artifacts.items()}
    (package_dir / "serverless-state.json").write_text(json.dumps({"service": {"functions": functions}}))
    return package_dir


def test_a_functions_zip_is_found_whichever_folder_osls_ran_from(tmp_path: Path) -> None:
    package_dir = _package_dir(
        tmp_path,
        {
            "worker": ".serverless/.lambda/worker-polyglot-dev-worker.zip",  # a Python module
            "fromRepo": str(osls.REPO / ".serverless" / "webhooksApi.zip"),  # Node, packaged in the repo
            "fromLinks": "/tmp/osls-x/prod/service/.serverless/webhooksDeliver.zip",  # Node, a linked folder
        },
    )
    assert osls.artifact(package_dir, "worker") == package_dir / ".lambda" / "worker-polyglot-dev-worker.zip"
    assert osls.artifact(package_dir, "fromRepo") == package_dir / "webhooksApi.zip"
    assert osls.artifact(package_dir, "fromLinks") == package_dir / "webhooksDeliver.zip"


def test_an_absolute_artifact_outside_any_serverless_folder_is_refused(tmp_path: Path) -> None:
    package_dir = _package_dir(tmp_path, {"odd": "/somewhere/else/odd.zip"})
    with pytest.raises(ValueError, match=r"not in a \.serverless folder"):
        osls.artifact(package_dir, "odd")
