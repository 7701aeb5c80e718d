"""bench.interleave: the order of the rounds, the ratio of the pairs, the verdict (no child runs)."""

from __future__ import annotations

import pytest

from bench.bench_worker import NO_REGRESSION
from bench.interleave import compare, interleaved_order, median_range, run_interleaved


def test_pairs_alternate_which_side_runs_first() -> None:
    assert interleaved_order(3) == [
        (0, "current"),
        (0, "baseline"),
        (1, "baseline"),
        (1, "current"),
        (2, "current"),
        (2, "baseline"),
    ]
    assert interleaved_order(0) == []


def test_rounds_run_in_that_order_and_come_back_per_side_in_pair_order() -> None:
    calls: list[str] = []

    def measure(side: str) -> str:
        calls.append(side)
        return f"{side}{calls.count(side) - 1}"

    current, baseline = run_interleaved(4, measure)
    assert calls == ["current", "baseline", "baseline", "current", "current", "baseline", "baseline", "current"]
    assert current == ["current0", "current1", "current2", "current3"]
    assert baseline == ["baseline0", "baseline1", "baseline2", "baseline3"]


def test_a_load_that_rises_through_the_run_favours_neither_side() -> None:
    slowdown = iter(range(1, 100))  # every round slower than the one before, identical code on both sides
    current, baseline = run_interleaved(6, lambda side: 1000 / next(slowdown))
    comparison = compare(current, baseline, NO_REGRESSION)
    assert comparison.ratios[0] > 1 > comparison.ratios[1]  # the side that runs first gains, in turn
    assert comparison.ratio == pytest.approx(1.0, abs=0.05)
    assert comparison.verdict == "no regression"


def test_the_ratio_is_the_median_of_the_pairs_ratios_with_their_range() -> None:
    comparison = compare([100, 90, 300, 50, 80], [100, 100, 100, 100, 100], 0.95)
    assert comparison.ratios == (1.0, 0.9, 3.0, 0.5, 0.8)
    # Pair by pair, not the ratio of the medians (90 / 100) nor of the means.
    assert comparison.ratio == 0.9
    assert median_range(comparison.ratios, ".2f") == "0.90 (0.50–3.00)"
    assert median_range([1500.0, 700.0, 1000.0]) == "1,000 (700–1,500)"


def test_the_verdict_is_no_regression_from_the_threshold_up() -> None:
    assert NO_REGRESSION == 0.95
    at = compare([95, 95, 95], [100, 100, 100], NO_REGRESSION)
    assert at.ratio == pytest.approx(0.95)
    assert at.no_regression
    assert at.verdict == "no regression"
    below = compare([94, 96, 90], [100, 100, 100], NO_REGRESSION)
    assert below.ratio == pytest.approx(0.94)
    assert below.verdict == "REGRESSION"
    faster = compare([120, 80, 130], [100, 100, 100], NO_REGRESSION)
    assert faster.ratio == pytest.approx(1.2)
    assert faster.verdict == "no regression"


def test_pairs_must_match() -> None:
    with pytest.raises(ValueError, match="as many"):
        compare([1.0, 2.0], [1.0], NO_REGRESSION)
    with pytest.raises(ValueError, match="as many"):
        compare([], [], NO_REGRESSION)
