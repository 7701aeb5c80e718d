"""The one backoff formula (contracts/backoff.py), with the numbers each retry loop gives it."""

from __future__ import annotations

import random

import pytest

from contracts import backoff


def test_exponential_doubles_from_the_base_until_the_cap() -> None:
    assert [backoff.exponential(base=0.05, exponent=n, cap=1.0) for n in range(7)] == [
        0.05,
        0.1,
        0.2,
        0.4,
        0.8,
        1.0,
        1.0,
    ]
    assert [backoff.exponential(base=30, exponent=n, cap=900) for n in range(6)] == [30, 60, 120, 240, 480, 900]


def test_an_exponent_below_zero_counts_as_zero_and_no_cap_means_none() -> None:
    assert backoff.exponential(base=10, exponent=-1) == 10
    assert backoff.exponential(base=0.1, exponent=10) == pytest.approx(102.4)
    assert backoff.exponential(base=0, exponent=3, cap=5) == 0


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.999])
def test_full_jitter_spreads_over_zero_to_the_delay(draw: float) -> None:
    delay = backoff.full_jitter(base=0.025, exponent=3, cap=0.5, rand=lambda: draw)
    assert delay == 0.2 * draw


@pytest.mark.parametrize("draw", [0.0, 0.5, 1.0])
def test_equal_jitter_spreads_over_half_to_the_whole_delay(draw: float) -> None:
    delay = backoff.equal_jitter(base=10, exponent=3, cap=900, rand=lambda: draw)
    assert delay == 40 + draw * 40


def test_the_jitters_stay_within_their_windows_with_the_default_random() -> None:
    for exponent in range(8):
        ceiling = backoff.exponential(base=0.05, exponent=exponent, cap=1.0)
        assert 0 <= backoff.full_jitter(base=0.05, exponent=exponent, cap=1.0) <= ceiling
        assert ceiling / 2 <= backoff.equal_jitter(base=0.05, exponent=exponent, cap=1.0) <= ceiling


def test_full_jitter_draws_what_random_uniform_drew() -> None:
    """The former sites slept ``random.uniform(0, d)``: the same draw gives the same delay."""
    state = random.getstate()
    expected = random.uniform(0, min(1.0, 0.05 * 2**3))
    random.setstate(state)
    assert backoff.full_jitter(base=0.05, exponent=3, cap=1.0) == expected


def test_a_factor_other_than_two_sets_the_growth() -> None:
    assert [backoff.exponential(base=3, exponent=e, factor=1) for e in range(4)] == [3, 3, 3, 3]
    assert [backoff.exponential(base=1, exponent=e, factor=3, cap=20) for e in range(4)] == [1, 3, 9, 20]
    assert backoff.equal_jitter(base=8, exponent=5, factor=1, rand=lambda: 0.0) == 4
