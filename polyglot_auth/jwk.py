"""EC P-256 keys as JWKs: the public JWK of a key, and its RFC 7638 thumbprint (the ``kid``)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

CURVE_BYTES = 32  # P-256 coordinates: x and y are 32 bytes each, left-padded with zeros


class NotAnEs256Key(ValueError):
    """The PEM is not an EC P-256 key (the only kind Django signs with)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def private_key_generate_pem() -> str:
    """A fresh P-256 private key as unencrypted PKCS#8 PEM (what the SSM parameters hold)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def private_key_load(pem: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as error:
        raise NotAnEs256Key(f"not a PEM private key: {error}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise NotAnEs256Key("the signing key must be an EC P-256 key (ES256)")
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public JWK (RFC 7518 §6.2) with ``kid`` (its thumbprint), ``alg`` and ``use``."""
    numbers = (key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key).public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(CURVE_BYTES, "big")),
        "y": _b64url(numbers.y.to_bytes(CURVE_BYTES, "big")),
    }
    return {**jwk, "kid": jwk_thumbprint(jwk), "alg": "ES256", "use": "sig"}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, no white space, base64url."""
    required = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return _b64url(hashlib.sha256(canonical).digest())


def jwks_document(private_pems: list[str]) -> dict[str, Any]:
    """The JWKS (RFC 7517) that publishes the public halves of these keys, each once, in order."""
    keys: dict[str, dict[str, str]] = {}
    for pem in private_pems:
        jwk = public_jwk(private_key_load(pem))
        keys.setdefault(jwk["kid"], jwk)
    return {"keys": list(keys.values())}
