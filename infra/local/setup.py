"""What ``make run`` does before serving: settings, migrations, the demo user."""

from __future__ import annotations

import os

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
