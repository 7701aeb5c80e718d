"""``Authorization: Bearer <token>`` for programs; browsers use the session."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from django_app.accounts.tokens import api_token_find, api_token_touch


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw_token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw_token = raw_token.strip()
        if not raw_token:
            raise exceptions.AuthenticationFailed("The Authorization header has no token.", code="invalid_token")
        token = api_token_find(raw_token=raw_token)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid.", code="invalid_token")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("The token was revoked.", code="revoked_token")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.", code="inactive_user")
        api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) with a WWW-Authenticate challenge.
        return f'{self.keyword} realm="api"'


class CsrfSessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, whose CSRF refusal carries its own code (``csrf_failed``)."""

    def enforce_csrf(self, request: Request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as denied:
            raise exceptions.PermissionDenied(str(denied.detail), code="csrf_failed") from None


def authenticated_user(request: Request | HttpRequest) -> AbstractBaseUser:
    """The logged-in user of a request that a login check has already admitted.

    Any user model (``AUTH_USER_MODEL``) derives from ``AbstractBaseUser``; the anonymous user does not.
    """
    user = request.user
    assert isinstance(user, AbstractBaseUser), "only call this behind IsAuthenticated or login_required"
    return user
