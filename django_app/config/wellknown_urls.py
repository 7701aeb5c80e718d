"""Everything under /.well-known/: the issuer's public keys and metadata."""

from __future__ import annotations

from django.urls import path

from django_app.accounts import discovery

urlpatterns = [
    path("jwks.json", discovery.jwks, name="jwks"),
    path("oauth-authorization-server", discovery.authorization_server_metadata, name="oauth-metadata"),
]
