"""Random secrets for the one-machine stack, made on first use and kept in git-ignored .local/."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

NAMES = ("DJANGO_SECRET_KEY", "TICKET_SIGNING_KEY")


def ensure_local_secrets(local_dir: Path) -> dict[str, str]:
    """Puts each secret in the environment unless already set there; returns what it used."""
    path = local_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if any(name not in stored for name in NAMES):
        for name in NAMES:
            stored.setdefault(name, secrets.token_urlsafe(50))
        local_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(stored, indent=2))
    for name in NAMES:
        os.environ.setdefault(name, stored[name])
    return {name: os.environ[name] for name in NAMES}
