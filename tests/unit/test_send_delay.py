"""When a job's message is sent: at once, with a DelaySeconds, or held for the sweep (SQS holds a
message back 900 s at most)."""

from __future__ import annotations

import datetime as dt

import pytest

from django_app.jobs.queue import SQS_MAX_DELAY_SECONDS, send_delay_seconds

NOW = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("ahead", "delay"),
    [
        (None, 0),
        (dt.timedelta(seconds=-30), 0),  # already due
        (dt.timedelta(0), 0),
        (dt.timedelta(seconds=0.2), 1),  # never early: rounded up
        (dt.timedelta(minutes=14), 840),
        (dt.timedelta(seconds=899.5), 900),
        (dt.timedelta(seconds=SQS_MAX_DELAY_SECONDS), None),  # 15 minutes or more: held
        (dt.timedelta(days=3), None),
    ],
)
def test_the_delay_of_a_job_due_at_run_after(ahead: dt.timedelta | None, delay: int | None) -> None:
    run_after = None if ahead is None else NOW + ahead
    assert send_delay_seconds(run_after=run_after, now=NOW) == delay
