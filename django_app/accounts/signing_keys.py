"""Django's token-signing keys, read from settings: which key signs, and which are published.

Three slots, each an EC P-256 private key as PEM (SecureString parameters in SSM, or the
environment; docs/operations.md, "Rotating the signing key"):

- ``AUTH_SIGNING_KEY``: signs every token Django issues now;
- ``AUTH_SIGNING_KEY_NEXT``: published in the JWKS before it signs, so every verifier's cache
  already holds it when it starts signing;
- ``AUTH_SIGNING_KEY_PREVIOUS``: published after it stopped signing, until every token it signed
  has expired.

Parsed once per process (a PEM load and a thumbprint per key); a change of the settings (tests)
parses them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from polyglot_auth.jwk import NotAnEs256Key, private_key_load, public_jwk

SLOTS = ("AUTH_SIGNING_KEY", "AUTH_SIGNING_KEY_NEXT", "AUTH_SIGNING_KEY_PREVIOUS")


@dataclass(frozen=True)
class SigningKey:
    kid: str  # RFC 7638 thumbprint of the public key
    private_key: ec.EllipticCurvePrivateKey
    public_jwk: dict[str, str]


@dataclass(frozen=True)
class Keyring:
    current: SigningKey
    published: tuple[SigningKey, ...]  # current, next, previous: each once

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in self.published]}


def _load(slot: str, pem: str) -> SigningKey:
    try:
        private_key = private_key_load(pem)
    except NotAnEs256Key as error:
        raise ImproperlyConfigured(f"{slot}: {error}") from None
    jwk = public_jwk(private_key)
    return SigningKey(kid=jwk["kid"], private_key=private_key, public_jwk=jwk)


@cache
def keyring() -> Keyring:
    """The configured keys; ``ImproperlyConfigured`` when the current key is missing or not P-256."""
    pems = {slot: str(getattr(settings, slot, "") or "") for slot in SLOTS}
    if not pems["AUTH_SIGNING_KEY"]:
        raise ImproperlyConfigured("AUTH_SIGNING_KEY is required to issue tokens: set it in the environment or SSM")
    keys = [_load(slot, pem) for slot, pem in pems.items() if pem]
    published: dict[str, SigningKey] = {}
    for key in keys:  # a key in two slots (mid-rotation slip) is published once
        published.setdefault(key.kid, key)
    return Keyring(current=keys[0], published=tuple(published.values()))


@receiver(setting_changed)
def _settings_changed(*, setting: str, **_: Any) -> None:
    if setting in SLOTS:
        keyring.cache_clear()
