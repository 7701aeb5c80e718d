"""Random secrets for the one-machine stack, made on first use and kept in git-ignored .local/.

``AUTH_SIGNING_KEY`` is the local stack's own ES256 key (a P-256 private key as PEM): Django signs
with it, and the other local functions get only its public JWKS (``infra/local/setup.py``).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from polyglot_auth.jwk import private_key_generate_pem

GENERATORS: dict[str, Callable[[], str]] = {
    "DJANGO_SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "AUTH_SIGNING_KEY": private_key_generate_pem,
}
NAMES = tuple(GENERATORS)


def ensure_local_secrets(local_dir: Path) -> dict[str, str]:
    """Puts each secret in the environment unless already set there; returns what it used."""
    path = local_dir / "secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if any(name not in stored for name in NAMES):
        for name, generate in GENERATORS.items():
            if name not in stored:
                stored[name] = generate()
        local_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(stored, indent=2))
    for name in NAMES:
        os.environ.setdefault(name, stored[name])
    return {name: os.environ[name] for name in NAMES}
