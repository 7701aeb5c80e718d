"""Django's ES256 signing keys in SSM, for operators: create them, rotate them, retire the old one.

``python -m infra.signing_keys <step> --stage STAGE`` (docs/operations.md, "Rotating the signing
key"). Three SecureString parameters under the stage's path hold private keys (PEM):
``auth-signing-key`` signs, ``auth-signing-key-next`` is published before it signs,
``auth-signing-key-previous`` stays published until its tokens have expired. Every step also writes
``auth-jwks`` (String): the public keys of the three, which the websocket function verifies with.
"""
