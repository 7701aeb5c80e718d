"""The soak's verdict: out of time is "too slow", never a count of missed events; too little spare
time fails it too."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest

from tests.soak.cpu_hog import cpu_hogs
from tests.soak.scenario import SoakConfig, SoakResult, Tally


def _result(**changes: Any) -> SoakResult:
    config = SoakConfig(database_url="postgresql://127.0.0.1/none", jobs=10, time_limit=100.0)
    tally = Tally(submitted=10)
    result = SoakResult(
        config=config,
        seconds=50.0,
        tally=tally,
        jobs_by_status={"succeeded": 10},
        not_terminal=0,
        lost=0,
        double_run=0,
        missed_terminal=0,
        missed_detail=[],
        clients_checked=5,
        frames=40,
        dlq_bodies=[],
        dlq_matches_poison=True,
        function_errors=[],
        throttled_posts=0,
        killed_invocations=0,
        timed_out=False,
        stack_cpu_seconds=0.6,
    )
    return dataclasses.replace(result, **changes)


def test_a_soak_with_enough_spare_time_passes() -> None:
    result = _result(seconds=59.0)
    assert result.ok
    assert result.verdict() == "PASS"
    assert "41% spare" in result.table()


def test_a_soak_that_runs_out_of_time_is_too_slow_and_counts_no_missed_events() -> None:
    result = _result(timed_out=True, seconds=101.0, missed_terminal=7)
    assert not result.ok
    assert result.verdict().startswith("FAIL: too slow (the 100 s time limit was reached")
    assert "not counted: time ran out (7 outstanding)" in result.table()
    assert "7 of 5 clients" not in result.table()


def test_a_soak_that_fits_its_limit_with_too_little_to_spare_is_too_slow() -> None:
    result = _result(seconds=61.0)
    assert not result.ok
    assert result.verdict() == "FAIL: too slow (61 s of the 100 s limit: 39% spare, 40% required)"


def test_missed_events_inside_the_time_limit_fail_as_missed() -> None:
    result = _result(missed_terminal=2)
    assert result.verdict() == "FAIL"
    assert "2 of 5 clients × their jobs" in result.table()


def test_the_table_reports_stack_cpu_per_job() -> None:
    assert "| stack CPU per job (every process of the stack) | 60.0 ms |" in _result().table()


def test_cpu_hogs_run_while_the_block_runs_and_end_after_it() -> None:
    with cpu_hogs(1) as pids:
        assert len(pids) == 1
        os.kill(pids[0], 0)  # alive
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
