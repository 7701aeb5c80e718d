"""Fuzzing both Python verifiers of Django's tickets: ``polyglot_auth.TokenVerifier`` (PyJWT, what
other Python services import) and the websocket function's ``tickets.verify`` (standard-library
parsing, ``cryptography`` for the ES256 check).

Properties:

- a ticket Django mints (current key, or the previous key still in the JWKS) is accepted by both,
  with the same claims;
- no forgery is accepted by either: any change to a minted ticket (characters replaced, bits
  flipped, inserted, deleted; a segment taken from another ticket; padding, alphabet and trailing-bit
  tricks; extra segments; huge inputs), tokens made without the private key (``alg: none``, HMAC
  keyed with the public key, unknown or missing ``kid``, another key's signature) and arbitrary strings;
- tokens signed with the real key but carrying decisive claims (expired, not yet valid, too long a
  lifetime, another audience or issuer, critical headers, another ``typ``) are refused by both;
- on every input, including tokens signed with the real key whose headers and claims are of any
  shape, the two verifiers agree (a differential test): other services follow the same rules
  (docs/protocol.md §5), so a token one side accepts and the other refuses is a bug in one of them.

Times are kept at least 5 s away from every boundary (exp, iat + skew, nbf), since PyJWT reads the
clock itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.test import override_settings
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.tickets import GRANT_AUDIENCE, TICKET_AUDIENCE, TICKET_MAX_TTL_SECONDS, TicketClaims
from django_app.accounts.tickets import ticket_mint
from functions.websocket.tickets import TicketRejected, Trust, public_keys
from polyglot_auth import TokenRejected, TokenVerifier
from tests.security.fuzzing import FUZZ
from tests.signing_keys import ISSUER, jwks, key_pem, private_key
from tests.signing_keys import kid as key_id

# Names of test keys (tests/signing_keys.py): Django's current one, its previous one, a stranger's.
KEY, PREVIOUS, STRANGER = "fuzz-current", "fuzz-previous", "fuzz-stranger"
WS_TRUST = Trust(issuer=ISSUER, keys=public_keys(jwks(KEY, PREVIOUS)))
HELPER = TokenVerifier(
    issuer=ISSUER,
    audience=TICKET_AUDIENCE,
    jwks=jwks(KEY, PREVIOUS),
    token_type="JWT",
    max_lifetime_seconds=TICKET_MAX_TTL_SECONDS,
)
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


# -- the two verifiers ------------------------------------------------------------------------


def helper_verdict(token: str) -> TicketClaims | None:
    try:
        claims = HELPER.verify(token)
        if isinstance(claims.get("aud"), list):  # the verifier checked it names ours
            claims["aud"] = TICKET_AUDIENCE
        return TicketClaims.model_validate(claims)
    except (TokenRejected, ValidationError):  # anything else is a crash, and fails the test
        return None


def ws_verdict(token: str) -> TicketClaims | None:
    try:
        return WS_TRUST.verify(token, audience=TICKET_AUDIENCE)
    except TicketRejected:  # anything else is a crash, and fails the test
        return None


def verdicts(token: str) -> TicketClaims | None:
    """The common verdict of both verifiers; fails when they disagree."""
    helper, ws = helper_verdict(token), ws_verdict(token)
    assert helper == ws, f"verifiers disagree on {token[:300]!r}: helper={helper!r} ws={ws!r}"
    return helper


# -- making tokens ----------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Any) -> str:
    return b64(value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode())


def signed(header: Any, payload: Any, *, key: str = KEY) -> str:
    """A compact JWS of exactly these header and payload (any JSON, or raw bytes), ES256-signed."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    r, s = decode_dss_signature(private_key(key).sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def hmac_signed(header: Any, payload: Any, *, secret: bytes, digest: Any = hashlib.sha256) -> str:
    signing_input = f"{segment(header)}.{segment(payload)}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), digest).digest())}"


def public_pem(key: str = KEY) -> bytes:
    return (
        private_key(key)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def header_for(key: str = KEY, **extra: Any) -> dict[str, Any]:
    return {"alg": "ES256", "typ": "JWT", "kid": key_id(key), **extra}


def claims(*, now: int | None = None, **changes: Any) -> dict[str, Any]:
    issued = int(time.time()) if now is None else now
    base = {
        "iss": ISSUER,
        "sub": "7",
        "aud": TICKET_AUDIENCE,
        "iat": issued,
        "exp": issued + 30,
        "jti": secrets.token_urlsafe(24),
        "topics": ["user:7"],
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not _MISSING}


_MISSING = object()


def django_mint(user_id: int, job_ids: list[uuid.UUID]) -> str:
    with override_settings(
        AUTH_SIGNING_KEY=key_pem(KEY), AUTH_SIGNING_KEY_PREVIOUS=key_pem(PREVIOUS), AUTH_ISSUER=ISSUER
    ):
        return ticket_mint(user_id=user_id, job_ids=job_ids)[0]


def previous_key_mint(user_id: int) -> str:
    return signed(header_for(PREVIOUS), claims(sub=str(user_id), topics=[f"user:{user_id}"]), key=PREVIOUS)


valid_tickets = st.one_of(
    st.builds(django_mint, st.integers(1, 10**12), st.lists(st.uuids(version=4), max_size=3)),
    st.builds(previous_key_mint, st.integers(1, 10**12)),
)


# -- 1. what Django mints is accepted ---------------------------------------------------------


@settings(FUZZ, max_examples=50)
@given(valid_tickets)
def test_a_minted_ticket_is_accepted_by_both(token: str) -> None:
    accepted = verdicts(token)
    assert accepted is not None, token
    assert accepted.aud == TICKET_AUDIENCE


# -- 2. no change to a minted ticket is accepted ----------------------------------------------


def _replace(token: str, position: int, text: str) -> str:
    position %= len(token)
    return token[:position] + text + token[position + 1 :]


def _flip_bit(token: str, position: int, bit: int) -> str:
    position %= len(token)
    return _replace(token, position, chr(ord(token[position]) ^ (1 << bit)))


def _insert(token: str, position: int, text: str) -> str:
    position %= len(token) + 1
    return token[:position] + text + token[position:]


def _delete(token: str, position: int, length: int) -> str:
    position %= len(token)
    return token[:position] + token[position + length :]


def _swap_segment(token: str, other: str, index: int) -> str:
    parts, others = token.split("."), other.split(".")
    parts[index] = others[index]
    return ".".join(parts)


def _low_bits(token: str, index: int, bits: int) -> str:
    """Sets unused low bits of a segment's last character: base64 decoders ignore them."""
    parts = token.split(".")
    last = parts[index][-1]
    parts[index] = parts[index][:-1] + B64_ALPHABET[B64_ALPHABET.index(last) ^ bits]
    return ".".join(parts)


def _padded(token: str, index: int, padding: str) -> str:
    parts = token.split(".")
    parts[index] += padding
    return ".".join(parts)


def _standard_alphabet(token: str) -> str:
    return token.replace("-", "+").replace("_", "/")


mutations = st.one_of(
    st.tuples(st.just(_replace), st.integers(0, 10**4), st.characters()),
    st.tuples(st.just(_replace), st.integers(0, 10**4), st.sampled_from(B64_ALPHABET + ".=+/ \n")),
    st.tuples(st.just(_flip_bit), st.integers(0, 10**4), st.integers(0, 7)),
    st.tuples(st.just(_insert), st.integers(0, 10**4), st.text(min_size=1, max_size=4)),
    st.tuples(st.just(_insert), st.integers(0, 10**4), st.sampled_from(["=", "==", "\n", " ", ".", "\x00", "é"])),
    st.tuples(st.just(_delete), st.integers(0, 10**4), st.integers(1, 8)),
    st.tuples(st.just(_swap_segment), valid_tickets, st.integers(0, 2)),
    st.tuples(st.just(_low_bits), st.integers(0, 2), st.integers(1, 3)),
    st.tuples(st.just(_padded), st.integers(0, 2), st.sampled_from(["=", "==", "===", "\n", " ", "\t", "%3D"])),
    st.tuples(st.just(_standard_alphabet)),
    st.tuples(
        st.just(lambda token, extra: token + extra),
        st.sampled_from([".", ".AAAA", "..", ".e30", "." + "A" * 5000, "A" * 5000, "\n", "\r\n", "\x00"]),
    ),
    st.tuples(st.just(lambda token, extra: extra + token), st.sampled_from([".", " ", "Bearer ", "e30.", "\ufeff"])),
    st.tuples(st.just(lambda token, times: ".".join([token] * times)), st.integers(2, 40)),
)


@settings(FUZZ, max_examples=500)
@given(valid_tickets, mutations)
def test_no_change_to_a_minted_ticket_is_accepted(token: str, mutation: tuple[Any, ...]) -> None:
    change, *arguments = mutation
    forged = change(token, *arguments)
    if forged == token:  # e.g. a segment swapped for an identical one
        return
    assert verdicts(forged) is None, (mutation, forged)


# -- 3. tokens made without the key -----------------------------------------------------------


def _unsigned(header: dict[str, Any], signature: str) -> str:
    return f"{segment(header)}.{segment(claims())}.{signature}"


keyless_tokens = st.one_of(
    # alg "none" in its spellings, with an empty, a dummy or a real signature of other content
    st.builds(
        _unsigned,
        st.builds(
            lambda alg, kid: {"alg": alg, "typ": "JWT", **kid},
            st.sampled_from(["none", "None", "NONE", "nOnE", "", None]),
            st.sampled_from([{}, {"kid": key_id(KEY)}]),
        ),
        st.sampled_from(["", "AAAA", b64(b"\x00" * 32)]),
    ),
    # algorithm confusion: HMAC keyed with the published public key (its PEM, or the JWK's JSON),
    # under our kid and any algorithm name
    st.builds(
        lambda alg, digest, secret: hmac_signed(header_for(alg=alg), claims(), secret=secret, digest=digest),
        st.sampled_from(["HS256", "HS384", "HS512", "ES256", "RS256", "PS256", "EdDSA", "es256", "ES256 ", "HMAC"]),
        st.sampled_from([hashlib.sha256, hashlib.sha384, hashlib.sha512]),
        st.sampled_from([public_pem(), public_pem().strip(), json.dumps(jwks(KEY)["keys"][0]).encode()]),
    ),
    # the key id: unknown, missing, of another shape, or ours on a stranger's signature
    st.builds(
        lambda kid, key: signed({"alg": "ES256", "typ": "JWT", **kid}, claims(), key=key),
        st.sampled_from(
            [
                {},
                {"kid": None},
                {"kid": ""},
                {"kid": key_id(STRANGER)},
                {"kid": key_id(KEY).upper()},
                {"kid": key_id(KEY) + " "},
                {"kid": [key_id(KEY)]},
                {"kid": {"id": key_id(KEY)}},
                {"kid": key_id(KEY)},
                {"kid": key_id(PREVIOUS)},
                {"kid": "../../etc/passwd"},
            ]
        ),
        st.sampled_from([STRANGER, "fuzz-stranger-2"]),
    ),
    # our kid, the current key's signature, but the previous key's kid (and the other way round)
    st.builds(lambda: signed(header_for(PREVIOUS), claims(), key=KEY)),
    st.builds(lambda: signed(header_for(KEY), claims(), key=PREVIOUS)),
    # a signature of other content
    st.builds(
        lambda payload: f"{segment(header_for())}.{segment(payload)}.{signed(header_for(), claims()).split('.')[2]}",
        st.builds(claims, sub=st.sampled_from(["1", "8", "70"]), topics=st.just(["user:1"])),
    ),
)


@settings(FUZZ, max_examples=200)
@given(keyless_tokens)
def test_tokens_made_without_the_key_are_refused(token: str) -> None:
    assert verdicts(token) is None, token


# -- 4. signed with the key, but with claims that must be refused -----------------------------


def _at(offset: int) -> int:
    return int(time.time()) + offset


refused_claims = st.one_of(
    st.builds(lambda ago, ttl: claims(now=_at(-ago), exp=_at(-ago) + ttl), st.integers(40, 10**6), st.integers(1, 35)),
    st.builds(lambda ahead: claims(now=_at(ahead)), st.integers(10, 10**8)),  # issued in the future
    st.builds(lambda ttl: claims(now=_at(-5), exp=_at(-5) + ttl), st.integers(61, 10**9)),  # lives too long
    st.builds(lambda ahead: claims(nbf=_at(ahead)), st.integers(10, 10**6)),  # not yet valid
    st.builds(
        lambda aud: claims(aud=aud),
        st.sampled_from([GRANT_AUDIENCE, "WS", "ws ", " ws", "", "ws\x00", ["other"], [GRANT_AUDIENCE], [], None, 1]),
    ),
    st.builds(lambda name: claims(**{name: _MISSING}), st.sampled_from(["sub", "aud", "iat", "exp", "jti", "topics"])),
    st.builds(lambda jti: claims(jti=jti), st.sampled_from(["", "short", "x" * 65, 12345678901234567890, None])),
    st.builds(lambda topics: claims(topics=topics), st.sampled_from([["user:7 "], ["*"], "user:7", [1], ["job:x"]])),
    st.builds(lambda sub: claims(sub=sub), st.sampled_from([7, None, ["7"], {"id": "7"}, 7.0, True])),
    st.builds(
        lambda iss: claims(iss=iss),
        st.sampled_from(["https://evil.example", ISSUER + "/", ISSUER.upper(), "", None, [ISSUER], _MISSING]),
    ),
)
refused_headers = st.sampled_from(
    [
        header_for(crit=["exp"]),
        header_for(crit=["b64"], b64=True),
        header_for(crit=["b64"], b64=False),
        header_for(crit=[]),
        header_for(crit="b64"),
        header_for(b64=False),  # RFC 7797 without `crit`: PyJWT refused it, the websocket function did not
        header_for(typ="at+jwt"),  # an access token is no ticket
        header_for(typ="JOSE"),
        {key: value for key, value in header_for().items() if key != "typ"},
    ]
)


@settings(FUZZ, max_examples=200)
@given(st.one_of(st.tuples(st.just(header_for()), refused_claims), st.tuples(refused_headers, st.builds(claims))))
def test_signed_tokens_with_refused_claims_are_refused(parts: tuple[dict[str, Any], dict[str, Any]]) -> None:
    header, payload = parts
    assert verdicts(signed(header, payload)) is None, (header, payload)


# -- 5. signed with the key, any shape: the verifiers agree -----------------------------------

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _time_claim(kind: str, offset: int, odd: Any) -> Any:
    value = _at(offset)
    return {"int": value, "float": float(value), "str": str(value), "bool": True, "odd": odd}[kind]


time_claims = st.builds(
    _time_claim,
    st.sampled_from(["int", "int", "int", "float", "str", "bool", "odd"]),
    st.sampled_from([-(10**6), -100, -40, -10, 0, 10, 40, 100, 10**6]),
    odd_values,
)
claim_values: dict[str, st.SearchStrategy[Any]] = {
    "sub": st.one_of(st.sampled_from(["7", "", "7\n", "٧"]), odd_values),
    "aud": st.one_of(
        st.sampled_from([TICKET_AUDIENCE, [TICKET_AUDIENCE], [TICKET_AUDIENCE, "x"], [TICKET_AUDIENCE, 1]]), odd_values
    ),
    "iat": time_claims,
    "exp": time_claims,
    "nbf": time_claims,
    "jti": st.one_of(st.just(secrets.token_urlsafe(24)), st.text(min_size=10, max_size=70), odd_values),
    "topics": st.one_of(
        st.lists(st.sampled_from(["user:7", "job:" + str(uuid.UUID(int=7)), "user:7\n", "user:x"]), max_size=3),
        odd_values,
    ),
    "iss": odd_values,
    "typ": odd_values,
}


@st.composite
def any_signed_token(draw: st.DrawFn) -> str:
    payload: dict[str, Any] = claims(now=_at(-10))
    for name, values in claim_values.items():
        choice = draw(st.sampled_from(["keep", "keep", "keep", "keep", "change", "drop"]))
        if choice == "change":
            payload[name] = draw(values)
        elif choice == "drop":
            payload.pop(name, None)
    if draw(st.booleans()):
        payload = dict(sorted(payload.items(), key=lambda item: draw(st.integers(0, 9))))
    header: dict[str, Any] = header_for(draw(st.sampled_from([KEY, PREVIOUS])))
    if draw(st.integers(0, 3)) == 0:
        header.update(
            draw(st.dictionaries(st.sampled_from(["typ", "cty", "jku", "x5u", "zip", "b64", "crit"]), odd_values))
        )
    key = KEY if header.get("kid") == key_id(KEY) else PREVIOUS
    raw_payload = draw(st.one_of(odd_values, st.binary(max_size=40))) if draw(st.integers(0, 5)) == 0 else payload
    return signed(header, raw_payload, key=key)


@settings(FUZZ, max_examples=300)
@given(any_signed_token())
def test_the_verifiers_agree_on_any_signed_token(token: str) -> None:
    event("accepted" if verdicts(token) is not None else "refused")


# -- 6. arbitrary input -----------------------------------------------------------------------

arbitrary = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda raw: raw.decode("latin-1")),
    st.lists(st.text(alphabet=B64_ALPHABET, max_size=60), min_size=1, max_size=6).map(".".join),
    st.lists(st.text(max_size=40), min_size=3, max_size=3).map(".".join),
    st.tuples(st.sampled_from([header_for(), {"alg": "none"}, "[" * 3000, "{}"]), st.text(max_size=20)).map(
        lambda parts: f"{segment(parts[0]) if not isinstance(parts[0], str) else b64(parts[0].encode())}.{parts[1]}."
    ),
    st.integers(4000, 50_000).map(lambda size: "A" * size),
)


@settings(FUZZ, max_examples=300)
@given(arbitrary)
def test_arbitrary_input_is_refused_by_both(token: str) -> None:
    assert verdicts(token) is None


# -- regressions, found by the tests above ----------------------------------------------------


def _token() -> str:
    return django_mint(7, [])


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda token: _low_bits(token, 2, 1), id="unused low bits of the signature"),
        pytest.param(lambda token: _padded(token, 2, "=="), id="padding on the signature"),
        pytest.param(lambda token: _insert(token, len(token) - 3, "!"), id="a non-alphabet character in it"),
        pytest.param(lambda token: token + "\n", id="a trailing newline"),
        pytest.param(lambda token: _replace(token, len(token) - 2, "+"), id="standard alphabet"),
    ],
)
def test_a_minted_ticket_has_one_spelling(forge: Any) -> None:
    token = _token()
    forged = forge(token)
    assert forged != token
    assert verdicts(token) is not None
    assert verdicts(forged) is None


def test_a_non_ascii_payload_segment_is_refused_not_crashed() -> None:
    header, _, signature = _token().split(".")
    assert verdicts(f"{header}.é.{signature}") is None


def test_a_deeply_nested_header_is_refused_not_crashed() -> None:
    assert verdicts(f"{b64(b'[' * 3000)}.e30.AAAA") is None


@pytest.mark.parametrize(
    ("header", "make_payload"),
    [
        pytest.param(header_for(), lambda: claims(now=_at(-10), iat=_at(3)), id="iat within the clock skew"),
        pytest.param(header_for(), lambda: claims(aud=[TICKET_AUDIENCE, "other"]), id="aud list naming ours"),
    ],
)
def test_both_accept_what_the_protocol_allows(header: dict[str, Any], make_payload: Any) -> None:
    assert verdicts(signed(header, make_payload())) is not None


@pytest.mark.parametrize(
    ("header", "make_payload"),
    [
        pytest.param(header_for(), lambda: claims(exp=str(_at(30))), id="exp as a string"),
        pytest.param(header_for(), lambda: claims(exp=float(_at(30))), id="exp as a float"),
        pytest.param(header_for(), lambda: claims(nbf=_at(100)), id="nbf in the future"),
        pytest.param(header_for(), lambda: claims(now=_at(-5), exp=_at(3600)), id="a lifetime over 60 s"),
        pytest.param(header_for(b64=False), lambda: claims(), id="b64 false without crit"),
        pytest.param(header_for(crit=["b64"], b64=True), lambda: claims(), id="a crit header"),
        pytest.param({**header_for(), "kid": 123}, lambda: claims(), id="kid not a string"),
        pytest.param(header_for(), lambda: claims(aud=[TICKET_AUDIENCE, 1]), id="aud list with a non-string"),
    ],
)
def test_both_refuse_what_the_protocol_refuses(header: dict[str, Any], make_payload: Any) -> None:
    assert verdicts(signed(header, make_payload())) is None
