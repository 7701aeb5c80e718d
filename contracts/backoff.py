"""Exponential backoff: how long to wait before trying again, for every retry loop of the stack.

Each caller keeps its own numbers (base, cap, how it counts tries); the formula is the same:
``base * factor**exponent`` (factor 2 unless a caller, such as a task's retry options, says
otherwise; 1 is a constant delay), at most ``cap``. Callers that retry together after one cause (a throttled
API, a database restart) add jitter so they do not all come back at the same moment (AWS
Architecture Blog, "Exponential Backoff And Jitter"):

- ``full_jitter``: anywhere in ``[0, delay]``, for short in-process retries;
- ``equal_jitter``: in ``[delay/2, delay]``, when a retry must still wait a real while.

Depends on the standard library only, so every function (the websocket one too) can use it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable


def exponential(*, base: float, exponent: int, cap: float = math.inf, factor: float = 2) -> float:
    """``base * factor**exponent``, at most ``cap``; an exponent below 0 counts as 0."""
    return min(cap, base * factor ** max(0, exponent))


def full_jitter(
    *, base: float, exponent: int, cap: float = math.inf, rand: Callable[[], float] = random.random
) -> float:
    """A delay drawn from ``[0, exponential(...)]``."""
    return exponential(base=base, exponent=exponent, cap=cap) * rand()


def equal_jitter(
    *,
    base: float,
    exponent: int,
    cap: float = math.inf,
    factor: float = 2,
    rand: Callable[[], float] = random.random,
) -> float:
    """A delay drawn from ``[d/2, d]`` where ``d = exponential(...)``."""
    ceiling = exponential(base=base, exponent=exponent, cap=cap, factor=factor)
    return ceiling / 2 + rand() * ceiling / 2
