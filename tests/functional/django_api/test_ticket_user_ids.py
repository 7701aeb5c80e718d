"""Tickets name the user's topic with the user model's key as a string, whatever its type."""

from __future__ import annotations

import uuid

import pytest

from django_app.accounts.tickets import ticket_mint
from django_app.config.errors import ApiError


@pytest.mark.parametrize("user_id", [7, uuid.UUID("5f0c1f7e-2b7a-4d8e-9c61-0d3f2a1b4c5e"), "alice@example.com"])
def test_an_int_a_uuid_or_a_string_key_is_the_topic_and_the_subject(user_id: object) -> None:
    _, claims = ticket_mint(user_id=user_id)
    assert claims.sub == str(user_id)
    assert claims.topics == [f"user:{user_id}"]


@pytest.mark.parametrize("user_id", ["has space", "a:b", "x" * 60])
def test_a_key_no_topic_can_name_is_refused_with_a_code_not_a_crash(user_id: str) -> None:
    with pytest.raises(ApiError) as refused:
        ticket_mint(user_id=user_id)
    assert (refused.value.status_code, refused.value.error_code) == (409, "user_id_unsupported")
