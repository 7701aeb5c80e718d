"""Claims of the access tokens Django issues to browsers and programs for other services.

RFC 9068 ("JWT Profile for OAuth 2.0 Access Tokens"): header ``typ: at+jwt``, signed with the same
ES256 keys as every Django token, and these claims. A service checks ``iss``, that ``aud`` names it,
``exp``, and that ``scope`` holds what the request needs.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a JWT "typ", not a secret
# Short-lived on purpose: a service verifies offline, so a token cannot be revoked before it expires.
ACCESS_TOKEN_MAX_TTL_SECONDS = 300
SCOPE_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"


class AccessTokenClaims(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    iss: str = Field(description="Django's public base URL.")
    sub: str = Field(description="The user the token acts for, as a string id.")
    aud: str = Field(description="The one service the token is for (a name in Django's service registry).")
    iat: int
    exp: int
    jti: str = Field(min_length=16, max_length=64)
    client_id: str = Field(description="How the holder authenticated to Django: `session` or `api-token:<id>`.")
    scope: str = Field(default="", description="Space-separated scopes granted for that service.")

    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())
