"""URL map. Each area is imported on its first request (see lazy_urls): a cold start that serves
``/api/health/`` imports no view, serializer, admin or task module."""

from __future__ import annotations

from django.urls import path

from django_app.config.health import health
from django_app.config.lazy_urls import lazy_path

urlpatterns = [
    path("api/health/", health, name="health"),
    lazy_path("api/", "django_app.config.api_urls"),
    lazy_path(".well-known/", "django_app.config.wellknown_urls"),
    lazy_path("admin/", "django_app.config.admin_urls", namespace="admin"),
    lazy_path("", "django_app.config.auth_urls"),
    lazy_path("", "django_app.web.urls", namespace="web"),
]

handler400 = "django_app.config.errors.bad_request"
handler403 = "django_app.config.errors.permission_denied"
handler404 = "django_app.config.errors.not_found"
handler500 = "django_app.config.errors.server_error"
