"""The ticket verifier on its own: tokens PyJWT mints with ES256 verify; each forgery is refused with
its code; nothing else makes it raise but ``TicketRejected``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.tickets import GRANT_AUDIENCE, TICKET_AUDIENCE
from functions.websocket.tickets import JwksKeys, TicketRejected, Trust, public_keys
from tests.functional.websocket.builders import OTHER_KEY, TICKET_KEY, mint
from tests.signing_keys import ISSUER, jwks, jwks_json, kid, private_key

TRUST = Trust(issuer=ISSUER, keys=public_keys(jwks(TICKET_KEY)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refusal(token: str, *, audience: str = TICKET_AUDIENCE, trust: Trust = TRUST, now: float | None = None) -> str:
    with pytest.raises(TicketRejected) as rejected:
        trust.verify(token, audience=audience, now=now)
    return rejected.value.code


def test_a_pyjwt_token_verifies() -> None:
    claims = TRUST.verify(mint(user="5", topics=["user:5"]), audience=TICKET_AUDIENCE)
    assert (claims.iss, claims.sub, claims.topics, claims.aud) == (ISSUER, "5", ["user:5"], TICKET_AUDIENCE)


def test_an_audience_list_is_accepted_when_it_names_ours() -> None:
    token = mint(user="5", audience=[TICKET_AUDIENCE, "other"])  # type: ignore[arg-type]
    assert TRUST.verify(token, audience=TICKET_AUDIENCE).aud == TICKET_AUDIENCE
    assert _refusal(token, audience=GRANT_AUDIENCE) == "ticket_wrong_audience"


def test_expiry_is_exact() -> None:
    token = mint(user="5", ttl=30)
    now = time.time()
    assert TRUST.verify(token, audience=TICKET_AUDIENCE, now=now + 29).sub == "5"
    assert _refusal(token, now=now + 31) == "ticket_expired"


def test_a_tampered_payload_fails_the_signature() -> None:
    header, _, signature = mint(user="5").split(".")
    forged = mint(user="6", key=OTHER_KEY).split(".")[1]
    assert _refusal(f"{header}.{forged}.{signature}") == "ticket_bad_signature"


def test_a_flipped_signature_byte_fails_the_signature() -> None:
    header, payload, signature = mint(user="5").split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    assert _refusal(f"{header}.{payload}.{_b64(bytes(raw))}") == "ticket_bad_signature"


def test_a_signature_of_the_wrong_length_is_refused() -> None:
    header, payload, signature = mint(user="5").split(".")
    longer = _b64(base64.urlsafe_b64decode(signature + "==") + bytes(1))
    assert _refusal(f"{header}.{payload}.{longer}") == "ticket_bad_signature"


def test_the_wrong_issuer_is_refused() -> None:
    assert _refusal(mint(user="5", iss="https://evil.example")) == "ticket_wrong_issuer"
    unconfigured = Trust(issuer="", keys=TRUST.keys)
    assert _refusal(mint(user="5"), trust=unconfigured) == "ticket_wrong_issuer"


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid(TICKET_KEY)}).encode())
    payload = mint(user="5").split(".")[1]
    assert _refusal(f"{header}.{payload}.") == "ticket_malformed"


def test_hs256_keyed_with_the_public_key_is_refused() -> None:
    """The classic confusion: an attacker signs with HMAC using the published public key as secret."""
    public_pem = (
        private_key(TICKET_KEY)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid(TICKET_KEY)}).encode())
    payload = mint(user="5").split(".")[1]
    signature = _b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert _refusal(f"{header}.{payload}.{signature}") == "ticket_malformed"


def test_an_unknown_kid_is_refused() -> None:
    assert _refusal(mint(user="5", key=OTHER_KEY)) == "ticket_unknown_key"


def test_an_access_token_is_not_a_ticket() -> None:
    claims = jwt.decode(mint(user="5"), options={"verify_signature": False})
    headers = {"kid": kid(TICKET_KEY), "typ": "at+jwt"}
    assert (
        _refusal(jwt.encode(claims, private_key(TICKET_KEY), algorithm="ES256", headers=headers)) == "ticket_malformed"
    )


def test_a_key_rotated_out_of_the_jwks_no_longer_verifies() -> None:
    old = mint(user="5", key=OTHER_KEY)
    during = Trust(issuer=ISSUER, keys=public_keys(jwks(TICKET_KEY, OTHER_KEY)))
    assert during.verify(old, audience=TICKET_AUDIENCE).sub == "5"
    assert _refusal(old) == "ticket_unknown_key"


def test_unusable_jwks_entries_are_skipped() -> None:
    good = jwks(TICKET_KEY)["keys"][0]
    document = {
        "keys": [
            {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"},
            {**good, "kid": "hs", "alg": "HS256"},
            {**good, "kid": "enc", "use": "enc"},
            {**good, "kid": "short", "x": good["x"][:-2]},
            {**good, "kid": "off-curve", "y": good["x"]},
            "not an object",
            good,
        ]
    }
    assert set(public_keys(document)) == {good["kid"]}


def test_an_unknown_kid_reads_the_jwks_again_at_most_once_a_cooldown() -> None:
    reads: list[bool] = []
    published = [jwks_json(TICKET_KEY)]

    def load(fresh: bool) -> str:
        reads.append(fresh)
        return published[0]

    keys = JwksKeys(load, cooldown_seconds=0.2)
    trust = Trust(issuer=ISSUER, keys=keys)
    new_key_token = mint(user="5", key=OTHER_KEY)
    assert _refusal(new_key_token, trust=trust) == "ticket_unknown_key"  # too soon after the first read
    published[0] = jwks_json(TICKET_KEY, OTHER_KEY)  # a rotation publishes the next key
    time.sleep(0.25)
    assert trust.verify(new_key_token, audience=TICKET_AUDIENCE).sub == "5"
    for index in range(5):  # a flood of unknown kids within the cooldown reads nothing more
        assert _refusal(mint(user="5", key=f"stranger-{index}"), trust=trust) == "ticket_unknown_key"
    assert reads == [False, True]


def test_a_failed_reread_keeps_the_keys_it_has() -> None:
    calls: list[bool] = []

    def load(fresh: bool) -> str:
        calls.append(fresh)
        if fresh:
            raise ConnectionError("SSM is unreachable")
        return jwks_json(TICKET_KEY)

    trust = Trust(issuer=ISSUER, keys=JwksKeys(load, cooldown_seconds=0))
    assert _refusal(mint(user="5", key=OTHER_KEY), trust=trust) == "ticket_unknown_key"  # not a crash
    assert trust.verify(mint(user="5"), audience=TICKET_AUDIENCE).sub == "5"
    assert calls == [False, True]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(st.text(max_size=40), min_size=3, max_size=3).map(".".join)))
def test_garbage_is_rejected_not_crashed(token: str) -> None:
    with pytest.raises(TicketRejected):
        TRUST.verify(token, audience=TICKET_AUDIENCE)
