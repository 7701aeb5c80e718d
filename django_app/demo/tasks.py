"""Sample tasks. Each bounds its input (pydantic) and its running time (the registry's timeout)."""

from __future__ import annotations

import collections
import csv
import io
import re
import statistics
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from django_app.jobs.registry import TaskCancelled, TaskContext, TaskError, task

MAX_TEXT_CHARS = 50_000


class CountdownParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: int = Field(default=5, ge=0, le=60, description="How long to count down, reporting each second.")


@task(name="countdown", params=CountdownParams, timeout=90, max_attempts=3)
def countdown(params: CountdownParams, ctx: TaskContext) -> dict[str, Any]:
    """Counts down, reporting progress every second; stops when cancelled."""
    started = time.monotonic()
    for elapsed in range(params.seconds):
        if ctx.cancelled():
            raise TaskCancelled()
        ctx.progress(elapsed * 100 // params.seconds, f"{params.seconds - elapsed} s left")
        time.sleep(1)
    ctx.progress(100, "done")
    return {"counted_seconds": params.seconds, "took_seconds": round(time.monotonic() - started, 3)}


class WordCountParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    top: int = Field(default=10, ge=1, le=100, description="How many of the most common words to return.")


_WORD = re.compile(r"[\w']+")


@task(name="word_count", params=WordCountParams, timeout=30, max_attempts=2)
def word_count(params: WordCountParams, ctx: TaskContext) -> dict[str, Any]:
    """Counts words and lists the most common ones (case-insensitive)."""
    words = [word.lower() for word in _WORD.findall(params.text)]
    counts = collections.Counter(words)
    ctx.progress(100, "counted")
    return {
        "words": len(words),
        "distinct": len(counts),
        "lines": params.text.count("\n") + 1,
        "top": [{"word": word, "count": count} for word, count in counts.most_common(params.top)],
    }


class CsvSummaryParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csv_text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="CSV with a header row.")
    column: str = Field(min_length=1, max_length=100)


@task(name="csv_summary", params=CsvSummaryParams, timeout=30, max_attempts=2)
def csv_summary(params: CsvSummaryParams, ctx: TaskContext) -> dict[str, Any]:
    """Summarises one numeric column of a CSV text: count, min, max, mean, median."""
    reader = csv.DictReader(io.StringIO(params.csv_text))
    if reader.fieldnames is None or params.column not in reader.fieldnames:
        raise TaskError("unknown_column", f"The CSV has no column named {params.column!r}.")
    values: list[float] = []
    skipped = 0
    for row in reader:
        raw = (row.get(params.column) or "").strip()
        try:
            values.append(float(raw))
        except ValueError:
            skipped += 1
    if not values:
        raise TaskError("no_numbers", f"Column {params.column!r} has no numeric values.")
    ctx.progress(100, "summarised")
    return {
        "column": params.column,
        "count": len(values),
        "skipped": skipped,
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
        "median": statistics.median(values),
    }
