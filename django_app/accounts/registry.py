"""The registry of services Django issues tokens for (``settings.AUTH_SERVICES``), read with checks.

A service is known by its audience. Its ``scopes`` are all a user's access token for it may carry,
each with the Django permission a user needs to be given it; its ``permissions`` are all its own
credential may be allowed. A registry that breaks these rules stops start-up (``checks.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

from contracts.access_tokens import SCOPE_PATTERN
from contracts.tickets import RESERVED_AUDIENCES

# What a service credential can be allowed to do, and where each is enforced.
SERVICE_PERMISSIONS = {
    "introspect": "POST /api/auth/introspect/",
    "jobs:read": "GET /api/jobs/{id}/ of any user's job (for a result_url)",
}
_AUDIENCE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_SCOPE = re.compile(SCOPE_PATTERN)


@dataclass(frozen=True)
class Service:
    audience: str
    scopes: dict[str, str | None]  # scope → the permission a user needs (None: any active user)
    permissions: frozenset[str]


class RegistryError(ValueError):
    pass


def services() -> dict[str, Service]:
    """The registry, validated; ``RegistryError`` names the first rule an entry breaks."""
    found: dict[str, Service] = {}
    for audience, entry in settings.AUTH_SERVICES.items():
        if not _AUDIENCE.match(audience) or audience in RESERVED_AUDIENCES:
            raise RegistryError(f"AUTH_SERVICES: {audience!r} cannot be an audience (reserved or malformed)")
        scopes = entry.get("scopes", {})
        permissions = entry.get("permissions", [])
        if not isinstance(scopes, dict) or not all(
            isinstance(scope, str) and _SCOPE.match(scope) and (need is None or isinstance(need, str))
            for scope, need in scopes.items()
        ):
            raise RegistryError(f"AUTH_SERVICES[{audience!r}]['scopes'] must map scope names to a permission or None")
        if not isinstance(permissions, list) or not set(permissions) <= SERVICE_PERMISSIONS.keys():
            raise RegistryError(
                f"AUTH_SERVICES[{audience!r}]['permissions'] must be a list of {sorted(SERVICE_PERMISSIONS)}"
            )
        found[audience] = Service(audience=audience, scopes=dict(scopes), permissions=frozenset(permissions))
    return found


def service_get(audience: str) -> Service | None:
    return services().get(audience)
