"""ES256 keys for tests, made once per test run: Django's current key, another one, and their JWKS."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from polyglot_auth.jwk import private_key_generate_pem, private_key_load, public_jwk

ISSUER = "http://testserver"


@cache
def key_pem(name: str) -> str:
    """A P-256 private key (PEM) per name, the same for the whole run: "django", "other", ..."""
    return private_key_generate_pem()


def private_key(name: str) -> Any:
    return private_key_load(key_pem(name))


def kid(name: str) -> str:
    return public_jwk(private_key(name))["kid"]


def jwks(*names: str) -> dict[str, Any]:
    return {"keys": [public_jwk(private_key(name)) for name in names]}


def jwks_json(*names: str) -> str:
    return json.dumps(jwks(*names))
