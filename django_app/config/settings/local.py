"""The one-machine stack started by ``make run``: SQLite under .local/, plain HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from django_app.config.local_secrets import ensure_local_secrets

ensure_local_secrets(Path(__file__).resolve().parents[3] / ".local")

from django_app.config.settings.base import *  # noqa: E402, F403
