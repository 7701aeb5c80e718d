"""The webhooks bundle (functions/webhooks/dist/index.mjs): what osls packages for the Node
functions and what the local stack's Node containers run. Built again when a source is newer.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from infra.check.config import REPO

PACKAGE = REPO / "functions" / "webhooks"
BUNDLE = PACKAGE / "dist" / "index.mjs"
_SOURCES = ("src", "scripts", "package.json", "tsconfig.json")
_BUILD_TIMEOUT = 300.0


class BundleError(RuntimeError):
    pass


def _newest_source(package: Path) -> float:
    newest = 0.0
    for name in _SOURCES:
        path = package / name
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(file.stat().st_mtime for file in files if file.is_file())])
    return newest


def bundle_is_current(package: Path = PACKAGE, bundle: Path = BUNDLE) -> bool:
    return bundle.exists() and bundle.stat().st_mtime >= _newest_source(package)


def ensure_bundle(package: Path = PACKAGE, bundle: Path = BUNDLE) -> bool:
    """Builds the bundle when it is missing or older than its sources; True when it built."""
    if bundle_is_current(package, bundle):
        return False
    npm = shutil.which("npm")
    if npm is None:
        raise BundleError("npm is not installed: the webhooks functions (Node) cannot be built")
    completed = subprocess.run(
        [npm, "run", "--silent", "-w", str(package.relative_to(REPO)), "build"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=_BUILD_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-5:]
        raise BundleError("building functions/webhooks failed (`make node` first?): " + " | ".join(detail))
    return True
