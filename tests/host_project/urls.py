"""The host's URL map: our API, our issuer's public keys and our login, each where the host wants them."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("api/", include("django_app.config.api_urls")),
    path(".well-known/", include("django_app.config.wellknown_urls")),
    path("", include("django_app.config.auth_urls")),
]
