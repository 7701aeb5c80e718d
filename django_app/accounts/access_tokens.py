"""Access tokens for other services (RFC 9068): what a user may be given, and issuing it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from contracts.access_tokens import ACCESS_TOKEN_MAX_TTL_SECONDS, ACCESS_TOKEN_TYPE, SCOPE_PATTERN, AccessTokenClaims
from django_app.accounts.issuer import token_sign
from django_app.accounts.registry import service_get
from django_app.config.errors import ApiError

_SCOPE = re.compile(SCOPE_PATTERN)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: AccessTokenClaims


def access_token_scopes(*, user: Any, audience: str, scope: str | None) -> list[str]:
    """The scopes to grant: those ``scope`` asks for, space-separated (all the user may have when
    it is left out), each checked.

    ``unknown_audience`` (400) for a service not in the registry, ``invalid_scope`` (400) for a
    malformed scope or one the service does not have, ``insufficient_scope`` (403) for one this
    user may not get.
    """
    service = service_get(audience)
    if service is None:
        raise ApiError(status_code=400, code="unknown_audience", message=f"No service is registered as {audience!r}.")
    asked = scope.split() if scope is not None else None
    if asked is not None and not all(_SCOPE.match(name) for name in asked):
        raise ApiError(status_code=400, code="invalid_scope", message="Scopes are space-separated names.")
    if asked is None:
        return sorted(scope for scope, need in service.scopes.items() if need is None or user.has_perm(need))
    unknown = sorted(set(asked) - service.scopes.keys())
    if unknown:
        raise ApiError(status_code=400, code="invalid_scope", message=f"{audience} has no scope {', '.join(unknown)}.")
    denied = sorted(scope for scope in set(asked) if (need := service.scopes[scope]) and not user.has_perm(need))
    if denied:
        raise ApiError(status_code=403, code="insufficient_scope", message=f"You may not have {', '.join(denied)}.")
    return sorted(set(asked))


def access_token_issue(*, user: Any, audience: str, scopes: list[str], client_id: str) -> IssuedToken:
    """A signed access token for ``audience`` acting as ``user`` (scopes already checked)."""
    ttl = min(settings.AUTH_ACCESS_TOKEN_TTL_SECONDS, ACCESS_TOKEN_MAX_TTL_SECONDS)
    token, payload = token_sign(
        audience=audience,
        subject=str(user.pk),
        ttl_seconds=ttl,
        token_type=ACCESS_TOKEN_TYPE,
        client_id=client_id,
        scope=" ".join(scopes),
    )
    return IssuedToken(token=token, claims=AccessTokenClaims.model_validate(payload))
