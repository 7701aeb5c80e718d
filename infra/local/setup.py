"""What ``make run`` does before serving: settings, migrations, the demo user."""

from __future__ import annotations

import os
from pathlib import Path

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a local-only account, printed by `make run`


def prepare_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    ensure_demo_user()


def ensure_demo_user() -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=DEMO_USERNAME, defaults={"is_staff": True})
    if created or not user.check_password(DEMO_PASSWORD):
        user.is_staff = True
        user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()


def local_secrets() -> dict[str, str]:
    """The stack's secrets, from .local/secrets.json (made on first use): the same values the local
    Django settings read, so what Django signs the websocket function verifies."""
    import json

    from django_app.config.local_secrets import NAMES, ensure_local_secrets

    local_dir = Path(__file__).resolve().parents[2] / ".local"
    saved = {name: os.environ.pop(name) for name in NAMES if name in os.environ}
    try:
        ensure_local_secrets(local_dir)
        stored: dict[str, str] = json.loads((local_dir / "secrets.json").read_text())
    finally:
        for name in NAMES:
            os.environ.pop(name, None)
        os.environ.update(saved)
    return {name: stored[name] for name in NAMES}
