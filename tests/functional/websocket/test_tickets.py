"""The ticket verifier on its own: tokens PyJWT mints verify; nothing else makes it raise but
``TicketRejected``."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.tickets import GRANT_AUDIENCE, TICKET_AUDIENCE
from functions.websocket.tickets import TicketRejected, verification_keys, verify
from tests.functional.websocket.builders import OTHER_KEY, TICKET_KEY, mint

KEYS = verification_keys((TICKET_KEY,))


def test_a_pyjwt_token_verifies() -> None:
    claims = verify(mint(user="5", topics=["user:5"]), audience=TICKET_AUDIENCE, keys=KEYS)
    assert (claims.sub, claims.topics, claims.aud) == ("5", ["user:5"], TICKET_AUDIENCE)


def test_an_audience_list_is_accepted_when_it_names_ours() -> None:
    token = mint(user="5", audience=[TICKET_AUDIENCE, "other"])  # type: ignore[arg-type]
    assert verify(token, audience=TICKET_AUDIENCE, keys=KEYS).aud == TICKET_AUDIENCE
    with pytest.raises(TicketRejected) as rejected:
        verify(token, audience=GRANT_AUDIENCE, keys=KEYS)
    assert rejected.value.code == "ticket_wrong_audience"


def test_expiry_is_exact() -> None:
    token = mint(user="5", ttl=30)
    now = time.time()
    assert verify(token, audience=TICKET_AUDIENCE, keys=KEYS, now=now + 29).sub == "5"
    with pytest.raises(TicketRejected) as rejected:
        verify(token, audience=TICKET_AUDIENCE, keys=KEYS, now=now + 31)
    assert rejected.value.code == "ticket_expired"


def test_a_tampered_payload_fails_the_signature() -> None:
    header, _, signature = mint(user="5").split(".")
    forged = mint(user="6", key=OTHER_KEY).split(".")[1]
    with pytest.raises(TicketRejected) as rejected:
        verify(f"{header}.{forged}.{signature}", audience=TICKET_AUDIENCE, keys=KEYS)
    assert rejected.value.code == "ticket_bad_signature"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(st.text(max_size=40), min_size=3, max_size=3).map(".".join)))
def test_garbage_is_rejected_not_crashed(token: str) -> None:
    with pytest.raises(TicketRejected):
        verify(token, audience=TICKET_AUDIENCE, keys=KEYS)
