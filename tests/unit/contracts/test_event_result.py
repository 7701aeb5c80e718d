"""The one "result too large, send a link" rule (contracts/event_result.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from contracts.event_result import EVENT_RESULT_MAX_BYTES, event_result_fitted, job_result_url
from contracts.job_event import JobEvent


def _event(result: Any) -> JobEvent:
    return JobEvent(
        type="job.succeeded" if result is not None else "job.progress",
        job_id=uuid.uuid4(),
        owner="1",
        seq=3,
        task="t",
        status="succeeded" if result is not None else "running",
        progress=100,
        result=result,
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def test_an_event_without_a_result_is_left_alone_and_unmeasured() -> None:
    event = _event(None)
    fitted = event_result_fitted(event)
    assert (fitted.event, fitted.inline_bytes) == (event, None)


def test_a_result_within_the_limit_travels_inline_with_its_size() -> None:
    event = _event({"words": 3})
    fitted = event_result_fitted(event)
    assert fitted.event is event
    assert fitted.inline_bytes == len(event.model_dump_json().encode())


def test_a_result_over_the_limit_travels_as_a_link() -> None:
    event = _event({"blob": "x" * EVENT_RESULT_MAX_BYTES})
    fitted = event_result_fitted(event)
    assert (fitted.event.result, fitted.event.result_url, fitted.inline_bytes) == (
        None,
        f"/api/jobs/{event.job_id}/",
        None,
    )
    assert fitted.event.seq == event.seq


def test_the_limit_and_the_links_base_are_the_callers() -> None:
    event = _event({"words": 3})
    size = len(event.model_dump_json().encode())
    assert event_result_fitted(event, max_bytes=size).event is event
    linked = event_result_fitted(event, max_bytes=size - 1, api_base_url="https://api.example.com").event
    assert linked.result_url == job_result_url(event.job_id, api_base_url="https://api.example.com")
    assert linked.result_url == f"https://api.example.com/api/jobs/{event.job_id}/"
