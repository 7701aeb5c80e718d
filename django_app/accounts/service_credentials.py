"""Service credentials: API tokens that belong to a service, not a user, and do only what they list.

A service acting on its own behalf (introspecting a token, reading a job for a ``result_url``)
authenticates with such a token. It never acts as a user: every API view refuses it unless the view
names a ``service_permission`` (``permissions.NotAServiceCredential``), and then checks that one.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from django_app.accounts.models import ApiToken
from django_app.accounts.registry import service_get
from django_app.accounts.tokens import api_token_fill

SERVICE_USERNAME_PREFIX = "service:"


class ServiceCredentialError(ValueError):
    pass


def service_credential_create(*, service: str, permissions: list[str], name: str = "") -> tuple[ApiToken, str]:
    """A new credential for ``service`` with exactly ``permissions``; returns it and its plain text.

    Its user (``service:<name>``, no password, not staff) exists only because a token needs one: it
    owns nothing and cannot log in.
    """
    entry = service_get(service)
    if entry is None:
        raise ServiceCredentialError(f"{service!r} is not in AUTH_SERVICES")
    if not permissions or not set(permissions) <= entry.permissions:
        raise ServiceCredentialError(f"{service} may be given only {sorted(entry.permissions)}, at least one")
    user_model = get_user_model()
    with transaction.atomic():
        lookup: dict[str, str] = {user_model.USERNAME_FIELD: f"{SERVICE_USERNAME_PREFIX}{service}"}
        user, created = user_model._default_manager.get_or_create(defaults=None, **lookup)
        if created:
            user.set_unusable_password()
            user.save()
        token = ApiToken(
            user=user,
            name=name or f"{service} service credential",
            service=service,
            permissions=sorted(set(permissions)),
        )
        raw_token = api_token_fill(token=token)
        token.save()
    return token, raw_token
