"""``polyglot_auth`` on its own: a JWKS document with unusable entries, and its configuration errors."""

from __future__ import annotations

import jwt
import pytest

from polyglot_auth import TokenRejected, TokenVerifier
from tests.signing_keys import ISSUER, jwks, kid, private_key


def _token(key: str = "django") -> str:
    claims = {"iss": ISSUER, "sub": "1", "aud": "webhooks", "iat": 2_000_000_000, "exp": 2_000_000_060, "jti": "x" * 20}
    return jwt.encode(claims, private_key(key), algorithm="ES256", headers={"kid": kid(key), "typ": "at+jwt"})


def test_unusable_jwks_entries_are_skipped_not_fatal() -> None:
    good = jwks("django")["keys"][0]
    document = {
        "keys": [
            {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"},
            {**good, "kid": "off-curve", "y": good["x"]},
            {**good, "kid": "bad-base64", "x": "!!"},
            {**good, "kid": "enc", "use": "enc"},
            {**good, "kid": ""},
            "not an object",
            good,
        ]
    }
    verifier = TokenVerifier(issuer=ISSUER, audience="webhooks", jwks=document, token_type="at+jwt")
    assert verifier.verify(_token(), now=2_000_000_010)["sub"] == "1"
    with pytest.raises(TokenRejected) as rejected:
        verifier.verify(_token("other"), now=2_000_000_010)
    assert rejected.value.code == "token_unknown_key"


def test_exactly_one_source_of_keys() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier(issuer=ISSUER, audience="webhooks")
    with pytest.raises(ValueError, match="exactly one"):
        TokenVerifier(issuer=ISSUER, audience="webhooks", jwks={"keys": []}, jwks_url="http://127.0.0.1:9/")
