"""Counting Django's connection health checks (the ``SELECT 1`` ping ``is_usable`` sends)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def pings_counted() -> Iterator[list[int]]:
    """While open, ``counted[0]`` is how many times the default connection was pinged."""
    counted = [0]
    original = connection.is_usable

    def counting() -> bool:
        counted[0] += 1
        return bool(original())

    connection.is_usable = counting  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        del connection.is_usable
