"""The local stack's state folder (.local/) is readable by its owner only.

It holds the SQLite database (sessions, password hashes, API token digests), the generated
secrets and Zappa's settings cache. On a shared machine a 0755 folder with 0644 files hands all of
that to every other account. ``make run`` therefore sets a umask of 077 before anything writes
there, which every process it starts (the functions, moto, SQLite's journal files) inherits, and
tightens what an earlier run left behind: folders 0700, files 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_state_dir(state_dir: Path) -> Path:
    """Makes ``state_dir`` (and what is in it) private; new files made by this process and its
    children are private from now on. Symlinks are left alone (``.local`` holds none of ours)."""
    os.umask(PRIVATE_UMASK)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(PRIVATE_DIR_MODE)
    for root, folders, files in os.walk(state_dir):  # bounded by what is on disk; no symlinks followed
        for name in folders:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(PRIVATE_DIR_MODE)
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(PRIVATE_FILE_MODE)
    return state_dir
