"""Verifying tokens that Django issues, for Python services: ``from polyglot_auth import TokenVerifier``.

Depends on PyJWT with its ``crypto`` extra only (no Django). Django's JWKS is fetched from the
issuer's ``/.well-known/jwks.json`` (or given as a document) and cached; a key that appears in a
rotation is picked up when a token names it. docs/protocol.md §5 states the rules.
"""

from polyglot_auth.jwk import jwk_thumbprint, private_key_generate_pem, public_jwk
from polyglot_auth.verifier import TokenRejected, TokenVerifier

__all__ = ["TokenRejected", "TokenVerifier", "jwk_thumbprint", "private_key_generate_pem", "public_jwk"]
