"""System checks of the issuer's settings: run by ``manage.py check`` and at every start-up command.

Registered by ``AccountsConfig.ready`` on every cold start, so what they need is imported when they
run (pydantic, cryptography), never at import: a Lambda cold start runs no checks.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def issuer_settings_check(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    from contracts.access_tokens import ACCESS_TOKEN_MAX_TTL_SECONDS
    from django_app.accounts.registry import RegistryError, services
    from django_app.accounts.signing_keys import keyring  # cryptography: only when checks run

    found: list[checks.CheckMessage] = []
    try:
        services()
    except RegistryError as error:
        found.append(checks.Error(str(error), id="accounts.E001"))
    if not 0 < settings.AUTH_ACCESS_TOKEN_TTL_SECONDS <= ACCESS_TOKEN_MAX_TTL_SECONDS:
        found.append(
            checks.Error(f"AUTH_ACCESS_TOKEN_TTL_SECONDS must be 1..{ACCESS_TOKEN_MAX_TTL_SECONDS}", id="accounts.E002")
        )
    try:
        keyring()
    except ImproperlyConfigured as error:
        # A worker does not issue tokens and may run without the key: a warning, not an error.
        found.append(checks.Warning(str(error), id="accounts.W001"))
    if not settings.AUTH_ISSUER:
        found.append(
            checks.Warning("AUTH_ISSUER (or API_BASE_URL) is not set: no token can be issued", id="accounts.W002")
        )
    return found
