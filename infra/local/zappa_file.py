"""The ``zappa_settings.py`` module Zappa's handler imports, written by Zappa itself
(``zappa save-python-settings-file <stage>``) and kept under .local/ until zappa_settings.json or
Zappa's version changes (the command takes seconds; ``make run`` should not).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from infra.check.config import REPO, ZAPPA


def zappa_settings_dir(*, stage: str, zappa_path: Path = ZAPPA, cache: Path = REPO / ".local" / "zappa") -> Path:
    """A folder holding ``zappa_settings.py`` for the stage (put it on the function's sys.path)."""
    key = hashlib.sha256(
        zappa_path.read_bytes() + stage.encode() + importlib.metadata.version("zappa").encode()
    ).hexdigest()[:16]
    folder = cache / f"{stage}-{key}"
    target = folder / "zappa_settings.py"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        zappa = Path(sys.executable).with_name("zappa")
        scratch = folder / f"tmp-{os.getpid()}"  # zappa insists on the file's name
        scratch.mkdir(exist_ok=True)
        partial = scratch / "zappa_settings.py"
        subprocess.run(
            [str(zappa), "save-python-settings-file", stage, "-o", str(partial)],
            cwd=zappa_path.parent,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        partial.rename(target)
        scratch.rmdir()
    return folder
