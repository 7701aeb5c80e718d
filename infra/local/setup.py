"""What ``make run`` does before serving: settings, migrations, the demo user."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a local-only account, printed by `make run`


NO_DEMO_USER = (
    "make run: DATABASE_URL names a database other than the stack's own SQLite file, so no demo user "
    "is created or reset there (its password would become the public demo-password). Log in with "
    "an account of that database, or `manage.py createsuperuser` there."
)


def is_local_sqlite(database_url: str, state_dir: Path) -> bool:
    """Whether the URL is a SQLite file inside the stack's state folder (.local/): the one
    database `make run` owns, where a known superuser password harms nobody else."""
    import dj_database_url

    try:
        parsed = dj_database_url.parse(database_url)
    except ValueError:
        return False
    name = str(parsed.get("NAME") or "")
    if parsed.get("ENGINE") != "django.db.backends.sqlite3" or not name or name == ":memory:":
        return False
    return Path(name).resolve().is_relative_to(state_dir.resolve())


LOCAL_CREDENTIAL_NAME = "local stack"


def prepare_django(*, demo_user: bool = True, services: dict[str, tuple[str, ...]] | None = None) -> dict[str, str]:
    """Migrates, then makes or resets the demo superuser, only when ``demo_user`` (the caller
    decides: the stack's own SQLite database, or a throwaway one a test named). Returns a fresh
    Django credential for each of ``services`` (service -> its permissions), by service name."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if demo_user:
        ensure_demo_user()
    else:
        print(NO_DEMO_USER, file=sys.stderr, flush=True)
    wanted = services or {}
    return {service: fresh_service_credential(service, permissions) for service, permissions in wanted.items()}


def fresh_service_credential(service: str, permissions: tuple[str, ...]) -> str:
    """A new credential for a service the stack runs, replacing the last start's: the plain text
    is shown once, so each start makes one and hands it to the service's functions only (in
    their environment, as a deployed stage keeps it in an SSM SecureString)."""
    from django_app.accounts.models import ApiToken
    from django_app.accounts.service_credentials import service_credential_create

    ApiToken.objects.filter(service=service, name=LOCAL_CREDENTIAL_NAME).delete()
    _token, raw = service_credential_create(service=service, permissions=list(permissions), name=LOCAL_CREDENTIAL_NAME)
    return raw


def ensure_demo_user() -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    # By the model's USERNAME_FIELD: a project's own user model may log in by e-mail, with no username.
    user, created = user_model._default_manager.get_or_create(
        **{user_model.USERNAME_FIELD: DEMO_USERNAME}, defaults={"is_staff": True}
    )
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
