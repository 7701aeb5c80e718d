"""Django as the token issuer: signing tokens, and checking the ones it issued.

Every token is a JWT signed with the current ES256 key (``signing_keys``), with ``iss`` (Django's
public base URL, ``AUTH_ISSUER``), ``aud``, ``sub``, ``iat``, ``exp`` and ``jti``. Services verify
them with the public keys alone (``/.well-known/jwks.json``); Django checks them with the same
``polyglot_auth.TokenVerifier`` it offers other Python services.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from contracts.tickets import TOKEN_ALGORITHM
from django_app.accounts.signing_keys import Keyring, keyring
from django_app.config.errors import ApiError
from polyglot_auth.verifier import TokenVerifier

logger = logging.getLogger(__name__)


def issuer() -> str:
    """``iss`` of every token; a 503 with a code (not a token no verifier accepts) when unset."""
    value: str = settings.AUTH_ISSUER
    if not value:
        raise ApiError(
            status_code=503, code="issuer_not_configured", message="AUTH_ISSUER (or API_BASE_URL) is not set."
        )
    return value


def configured_keys() -> Keyring:
    """The signing keys; a 503 with a code (logged for the operator), not a 500, when they are
    missing or not P-256 keys."""
    try:
        return keyring()
    except ImproperlyConfigured as error:
        logger.error("cannot issue tokens: %s", error)
        raise ApiError(
            status_code=503, code="signing_key_not_configured", message="This server cannot issue tokens now."
        ) from None


def token_sign(
    *, audience: str, subject: str, ttl_seconds: int, token_type: str, **claims: Any
) -> tuple[str, dict[str, Any]]:
    """A signed token and its claims: the registered ones plus ``claims``."""
    now = int(time.time())
    payload = {
        "iss": issuer(),
        "sub": subject,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": secrets.token_urlsafe(24),
        **claims,
    }
    current = configured_keys().current
    token = jwt.encode(
        payload, current.private_key, algorithm=TOKEN_ALGORITHM, headers={"kid": current.kid, "typ": token_type}
    )
    return token, payload


def token_verifier(*, audience: str, token_type: str, max_lifetime_seconds: int) -> TokenVerifier:
    """A verifier of Django's own tokens for ``audience``, with the keys Django publishes."""
    return TokenVerifier(
        issuer=issuer(),
        audience=audience,
        jwks=configured_keys().jwks(),
        token_type=token_type,
        max_lifetime_seconds=max_lifetime_seconds,
    )
