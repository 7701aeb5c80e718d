"""Service credentials in DRF views: refused everywhere except where a view names what it allows.

Kept free of models and of ``config.errors``: DRF imports its default permission classes while
``rest_framework.views`` itself is still being imported.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, permissions
from rest_framework.request import Request


def service_credential_of(request: Request) -> Any | None:
    """The service credential (an ``ApiToken`` with a ``service``) a request authenticated with."""
    return request.auth if getattr(request.auth, "service", "") else None


def service_may(request: Request, permission: str) -> bool:
    credential = service_credential_of(request)
    return credential is not None and permission in credential.permissions


class CanIntrospect(permissions.BasePermission):
    """A service credential allowed ``introspect``; checked before throttling, so no one else is counted."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not service_may(request, "introspect"):
            raise exceptions.PermissionDenied(
                "Introspection needs a service credential allowed to introspect.", code="service_credential_required"
            )
        return True


class NotAServiceCredential(permissions.BasePermission):
    """On every view by default: a service credential acts as no user. A view that serves services
    sets ``service_permission`` and checks it with ``service_may``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if service_credential_of(request) is not None and not getattr(view, "service_permission", None):
            raise exceptions.PermissionDenied(
                "A service credential cannot do this.", code="service_credential_not_allowed"
            )
        return True
