"""Who may read the OpenAPI schema and Swagger UI: ``settings.API_DOCS``.

- ``public``: anyone (local runs, the test settings);
- ``staff``: a staff user's session or API token (the Lambda default: the schema maps every route
  and error of the API, which helps an attacker more than a customer);
- ``off``: 404, as if the routes did not exist.

Read at each request, so a test (or an operator's environment change) needs no URL reload.
Swagger UI's files are ours (drf-spectacular-sidecar, served by WhiteNoise): no third-party
script runs on the API's origin, and the CSP names no CDN (``config/security.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.request import Request


class ApiDocsAccess(permissions.BasePermission):
    message = "The API documentation is for staff."

    def has_permission(self, request: Request, view: Any) -> bool:
        mode = settings.API_DOCS
        if mode == "public":
            return True
        if mode == "staff":
            return bool(request.user and request.user.is_authenticated and request.user.is_staff)
        raise NotFound()
