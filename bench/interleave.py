"""Interleaved A/B rounds against a baseline, and the ratio that decides "no regression".

Load from other work on a shared machine moves throughput figures by tens of percent from one
minute to the next; it moves the current code and the baseline alike only if they take turns. The
rounds run in pairs, the first of each pair alternating between the two sides (current, baseline,
then baseline, current, ...), so a load that rises or falls through the run favours neither side;
each pair gives one ratio, and the verdict is on the median of those ratios.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

Side = Literal["current", "baseline"]
T = TypeVar("T")


def interleaved_order(pairs: int) -> list[tuple[int, Side]]:
    """The rounds in the order they run: pair 0 current first, pair 1 baseline first, and so on."""
    order: list[tuple[int, Side]] = []
    for pair in range(pairs):
        sides: tuple[Side, Side] = ("current", "baseline") if pair % 2 == 0 else ("baseline", "current")
        order += [(pair, side) for side in sides]
    return order


def run_interleaved(pairs: int, measure: Callable[[Side], T]) -> tuple[list[T], list[T]]:
    """``measure(side)`` for every round in :func:`interleaved_order`; the current and the baseline
    results, each in pair order (``current[i]`` and ``baseline[i]`` ran next to each other)."""
    results: dict[Side, list[T]] = {"current": [], "baseline": []}
    for _pair, side in interleaved_order(pairs):
        results[side].append(measure(side))
    return results["current"], results["baseline"]


@dataclass(frozen=True)
class Comparison:
    """Throughputs (higher is better) of the two sides, pair by pair."""

    current: tuple[float, ...]
    baseline: tuple[float, ...]
    threshold: float

    @property
    def ratios(self) -> tuple[float, ...]:
        return tuple(c / b for c, b in zip(self.current, self.baseline, strict=True))

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def no_regression(self) -> bool:
        return self.ratio >= self.threshold

    @property
    def verdict(self) -> str:
        return "no regression" if self.no_regression else "REGRESSION"


def compare(current: Sequence[float], baseline: Sequence[float], threshold: float) -> Comparison:
    if not current or len(current) != len(baseline):
        raise ValueError(f"need as many current rounds as baseline ones, at least one: {len(current)}, {len(baseline)}")
    return Comparison(tuple(current), tuple(baseline), threshold)


def median_range(values: Sequence[float], fmt: str = ",.0f") -> str:
    """``median (min–max)``, e.g. ``612 (580–640)``."""
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"
