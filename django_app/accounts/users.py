"""Reading users by the string ids that tokens carry (``sub``), whatever the user model's key."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError


def user_find_active(*, user_id: str) -> Any | None:
    """The active user with that id; None for an unknown, inactive or malformed id."""
    try:
        return get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    except (ValueError, TypeError, ValidationError):  # "abc" for an integer key, a bad UUID
        return None
