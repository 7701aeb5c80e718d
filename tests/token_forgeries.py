"""Forgeries of a Django-issued token, as an attacker would make them: every verifier must refuse each."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resigned(token: str, *, key: Any, header: dict[str, Any] | None = None, **changes: Any) -> str:
    """The token's claims with ``changes``, signed again with ``key`` (ES256) under its header + ``header``."""
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    return jwt.encode(claims, key, algorithm="ES256", headers={**jwt.get_unverified_header(token), **(header or {})})


def flipped_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 0x80
    return f"{header}.{payload}.{b64(bytes(raw))}"


def swapped_payload(token: str, **changes: Any) -> str:
    """Other claims under the original signature."""
    header, _, signature = token.split(".")
    claims = {**jwt.decode(token, options={"verify_signature": False}), **changes}
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def alg_none(token: str) -> str:
    header = {**jwt.get_unverified_header(token), "alg": "none"}
    return f"{b64(json.dumps(header).encode())}.{token.split('.')[1]}."


def hs256_with_public_key(token: str, public_key: Any) -> str:
    """The classic confusion: HMAC keyed with the published public key (its PEM), alg switched to HS256."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({**jwt.get_unverified_header(token), "alg": "HS256"}).encode())
    payload = token.split(".")[1]
    return f"{header}.{payload}.{b64(hmac.new(pem, f'{header}.{payload}'.encode(), hashlib.sha256).digest())}"
