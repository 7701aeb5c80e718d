"""Hypothesis settings shared by the fuzz tests: the same examples on every run (CI is reproducible,
a failure replays), no example database, no deadline (a shared 2-core machine is not a benchmark)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
