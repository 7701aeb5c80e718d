"""``TokenVerifier``: checks a Django-issued JWT with Django's public keys alone.

Built on PyJWT. Checked: the algorithm (exactly ES256: never ``none``, never HS256 keyed with the
public key), the key (by ``kid``, from the JWKS), the signature, ``typ`` when asked, ``iss``,
``aud``, ``exp``, ``nbf``, ``iat`` (not in the future, and ``exp - iat`` within the lifetime cap),
and that the registered claims are there. Refusals carry a stable ``code``.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from typing import Any

import jwt

ALGORITHM = "ES256"
REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti")
MAX_TOKEN_LENGTH = 4096
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


class TokenRejected(Exception):
    """Why a token is refused. ``code``: token_malformed, token_unknown_key, token_bad_signature,
    token_expired, token_wrong_issuer, token_wrong_audience or token_wrong_type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _is_canonical_base64url(segment: str) -> bool:
    """Only the one spelling: PyJWT's decoder accepts padding and ignores stray characters and the
    unused low bits of the last one, so a token would otherwise verify under many strings."""
    if not _SEGMENT.fullmatch(segment):
        return False
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return False
    return base64.urlsafe_b64encode(decoded).rstrip(b"=") == segment.encode("ascii")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class TokenVerifier:
    """Verifies tokens of one issuer for one audience.

    Give ``jwks_url`` (fetched, cached for ``jwks_cache_seconds``, fetched again when a token names
    a key not yet seen, at most once per ``refetch_cooldown_seconds``) or a ``jwks`` document.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        jwks: dict[str, Any] | None = None,
        token_type: str | None = None,
        max_lifetime_seconds: int = 300,
        clock_skew_seconds: int = 5,
        jwks_cache_seconds: float = 300,
        refetch_cooldown_seconds: float = 30,
        http_timeout_seconds: float = 5,
    ) -> None:
        if (jwks_url is None) == (jwks is None):
            raise ValueError("give exactly one of jwks_url and jwks")
        self.issuer = issuer
        self.audience = audience
        self.token_type = token_type
        self.max_lifetime_seconds = max_lifetime_seconds
        self.clock_skew_seconds = clock_skew_seconds
        self._client = (
            jwt.PyJWKClient(
                jwks_url,
                cache_jwk_set=True,
                lifespan=jwks_cache_seconds,
                timeout=http_timeout_seconds,
                cooldown_duration=refetch_cooldown_seconds,
            )
            if jwks_url is not None
            else None
        )
        self._keys = _keys_by_kid(jwks) if jwks is not None else {}

    def _key(self, kid: object) -> Any:
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("token_unknown_key", "the token names no key")
        if self._client is None:
            key = self._keys.get(kid)
            if key is None:
                raise TokenRejected("token_unknown_key", "no key with that kid in the JWKS")
            return key
        try:
            found = self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as error:
            raise TokenRejected("token_unknown_key", f"the JWKS could not be fetched: {error}") from error
        except jwt.PyJWKClientError as error:
            raise TokenRejected("token_unknown_key", "no key with that kid in the JWKS") from error
        if found.key_type != "EC" or getattr(found, "algorithm_name", ALGORITHM) != ALGORITHM:
            raise TokenRejected("token_unknown_key", "that key is not an ES256 key")
        return found.key

    def verify(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        """The claims of a valid token; raises ``TokenRejected`` otherwise."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise TokenRejected("token_malformed", "no token, or longer than 4096 characters")
        segments = token.split(".")
        if len(segments) != 3 or not all(_is_canonical_base64url(segment) for segment in segments):
            raise TokenRejected("token_malformed", "not a compact JWS of canonical base64url segments")
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, RecursionError) as error:  # a header nested too deeply: RecursionError
            raise TokenRejected("token_malformed", "not a compact JWS") from error
        if header.get("alg") != ALGORITHM:
            raise TokenRejected("token_malformed", "the algorithm must be ES256")
        if "crit" in header:  # RFC 7515 §4.1.11: no extension is understood here, so none is accepted
            raise TokenRejected("token_malformed", "unsupported critical header")
        if self.token_type is not None and str(header.get("typ", "")).lower() != self.token_type.lower():
            raise TokenRejected("token_wrong_type", f"the token's typ must be {self.token_type}")
        key = self._key(header.get("kid"))
        moment = time.time() if now is None else now
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidSignatureError as error:
            raise TokenRejected("token_bad_signature", "the signature does not verify") from error
        except jwt.InvalidAudienceError as error:
            raise TokenRejected("token_wrong_audience", f"the token is not for {self.audience}") from error
        except jwt.InvalidIssuerError as error:
            raise TokenRejected("token_wrong_issuer", "the token is from another issuer") from error
        except (jwt.PyJWTError, RecursionError) as error:
            raise TokenRejected("token_malformed", "not a token Django signed") from error
        # Times are checked here, not by PyJWT, which also takes "123" or 123.0 and has no lifetime cap.
        if not all(_is_int(claims.get(name)) for name in ("exp", "iat")) or (
            "nbf" in claims and not _is_int(claims["nbf"])
        ):
            raise TokenRejected("token_malformed", "exp, iat and nbf must be integers")
        if moment >= claims["exp"]:
            raise TokenRejected("token_expired", "the token has expired")
        lifetime = claims["exp"] - claims["iat"]
        if claims["iat"] > moment + self.clock_skew_seconds or lifetime > self.max_lifetime_seconds:
            raise TokenRejected("token_malformed", "implausible lifetime")
        if claims.get("nbf", 0) > moment + self.clock_skew_seconds:
            raise TokenRejected("token_malformed", "not valid yet")
        return claims


def _keys_by_kid(jwks: dict[str, Any]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    for entry in jwks.get("keys", []):
        if not isinstance(entry, dict) or entry.get("kty") != "EC" or entry.get("crv") != "P-256":
            continue  # a verifier skips keys it cannot use (RFC 7517 §5)
        if entry.get("alg", ALGORITHM) != ALGORITHM or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            keys[kid] = jwt.PyJWK.from_dict(entry, algorithm=ALGORITHM).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError):  # a point off the curve, bad base64
            continue
    return keys
