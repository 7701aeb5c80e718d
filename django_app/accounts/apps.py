from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "django_app.accounts"
    label = "accounts"
    # What its migrations were made with, whatever the host project's DEFAULT_AUTO_FIELD says.
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Accounts and API tokens"

    def ready(self) -> None:
        from django_app.accounts import checks, user_events  # noqa: F401 - registers the check and the signal
