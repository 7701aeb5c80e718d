"""Creating, finding and revoking API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from django_app.accounts.models import ApiToken
from django_app.config.db_retry import repeatable_writes

TOKEN_PREFIX = "pgt_"  # noqa: S105 - a public marker, not a secret


def _hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_fill(*, token: ApiToken) -> str:
    """Gives an unsaved token fresh secret material; returns the plain text, never stored."""
    raw_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token.prefix = raw_token[: len(TOKEN_PREFIX) + 6]
    token.token_hash = _hash(raw_token)
    return raw_token


def api_token_create(*, user: AbstractBaseUser, name: str) -> tuple[ApiToken, str]:
    """Returns the stored token and the plain text, which must be shown now."""
    token = ApiToken(user_id=user.pk, name=name)  # any AUTH_USER_MODEL, whatever its key
    raw_token = api_token_fill(token=token)
    token.save()
    return token, raw_token


def api_token_find(*, raw_token: str) -> ApiToken | None:
    """The token for that text, revoked or not; None if no such token."""
    if not raw_token.startswith(TOKEN_PREFIX) or len(raw_token) > 100:
        return None
    return ApiToken.objects.select_related("user").filter(token_hash=_hash(raw_token)).first()


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def api_token_touch(*, token: ApiToken) -> None:
    """Records use at most once a minute, so reads don't turn every request into a write."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with repeatable_writes():  # a repeated request writes the same stamp again
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
