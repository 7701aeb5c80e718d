"""The code a benchmark compares against: a commit's source tree, unpacked from git into a temp folder.

A target such as "within 10 % of today's" is measured against the commit before the change, run
interleaved with the current tree in the same benchmark, on the same machine.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The last commit whose tickets were HS256 (before Django became an ES256 issuer).
BASELINE_COMMIT = "073b22da34fa748f67da5bec115215170b41fc96"


@contextmanager
def baseline_tree(commit: str = BASELINE_COMMIT, paths: tuple[str, ...] = ("functions", "contracts")) -> Iterator[Path]:
    """``paths`` of ``commit``, checked out into a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as folder:
        archive = Path(folder) / "tree.tar"
        with archive.open("wb") as out:
            subprocess.run(["git", "archive", commit, *paths], cwd=REPO, stdout=out, check=True)
        root = Path(folder) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
        yield root
