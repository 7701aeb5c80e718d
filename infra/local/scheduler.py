"""EventBridge schedules: ``rate(N unit)`` and ``cron(min hour day-of-month month day-of-week year)``
(UTC, EventBridge's six fields; ``L``, ``W`` and ``#`` are refused rather than misread).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from infra.local.config import Schedule

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    name: index
    for index, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {name: index for index, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}


class ScheduleError(ValueError):
    pass


def rate_seconds(expression: str) -> float | None:
    match = _RATE.match(expression.strip())
    if not match:
        return None
    count, unit = int(match.group(1)), match.group(2).rstrip("s")
    if count < 1 or (count == 1) != (match.group(2) == unit):
        raise ScheduleError(f"{expression}: EventBridge wants 'rate(1 {unit})' or 'rate(N {unit}s)'")
    return float(count * _UNITS[unit])


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """The values a cron field allows; None for ``*`` and ``?``."""
    if text in ("*", "?"):
        return None
    if any(mark in text for mark in ("L", "W", "#")) and not (names and text.upper() in names):
        raise ScheduleError(f"cron field {text!r}: L, W and # are not emulated locally")
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(part, names)
            end = high if "/" in text else start
        values.update(range(start, end + 1, step))
    if not values or min(values) < low or max(values) > high:
        raise ScheduleError(f"cron field {text!r} is outside {low}-{high}")
    return values


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: set[int] | None
    hours: set[int] | None
    days: set[int] | None
    months: set[int] | None
    weekdays: set[int] | None  # 1 = Sunday, as in EventBridge
    years: set[int] | None

    @classmethod
    def parse(cls, expression: str) -> Cron:
        match = _CRON.match(expression.strip())
        if not match:
            raise ScheduleError(f"{expression!r} is neither rate(...) nor cron(...)")
        fields = match.group(1).split()
        if len(fields) != 6:
            raise ScheduleError(f"{expression}: EventBridge cron has 6 fields, not {len(fields)}")
        if (fields[2] == "?") == (fields[4] == "?"):
            raise ScheduleError(f"{expression}: exactly one of day-of-month and day-of-week must be '?'")
        return cls(
            _field(fields[0], 0, 59),
            _field(fields[1], 0, 23),
            _field(fields[2], 1, 31),
            _field(fields[3], 1, 12, _MONTHS),
            _field(fields[4], 1, 7, _DAYS),
            _field(fields[5], 1970, 2199),
        )

    def next_after(self, after: dt.datetime) -> dt.datetime:
        start = (after + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 5):  # bounded: five years ahead
            weekday = (day.weekday() + 1) % 7 + 1  # Monday is 0 in Python, 2 in EventBridge
            if (
                (self.years is None or day.year in self.years)
                and (self.months is None or day.month in self.months)
                and (self.days is None or day.day in self.days)
                and (self.weekdays is None or weekday in self.weekdays)
            ):
                for hour in sorted(self.hours) if self.hours is not None else range(24):
                    for minute in sorted(self.minutes) if self.minutes is not None else range(60):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += dt.timedelta(days=1)
        raise ScheduleError("no firing time in the next five years")


class Timer:
    """When a schedule fires: every ``period`` seconds from start-up (rate) or on the cron times."""

    def __init__(self, schedule: Schedule, *, period_override: float | None = None) -> None:
        self.schedule = schedule
        self.period = period_override or rate_seconds(schedule.expression)
        self.cron = None if self.period else Cron.parse(schedule.expression)
        self.started = time.time()
        self.fired = 0

    def next_time(self, now: float) -> float:
        if self.period:
            # EventBridge starts a rate when the rule is created; the first firing is one period later.
            return self.started + self.period * (self.fired + 1)
        assert self.cron is not None
        return self.cron.next_after(dt.datetime.fromtimestamp(now, dt.UTC)).timestamp()


async def run_timer(
    timer: Timer, fire: Callable[[Schedule], Coroutine[Any, Any, None]], stopping: asyncio.Event
) -> None:
    running: set[asyncio.Task[None]] = set()
    for _ in range(100_000_000):  # bounded: ends with the stack
        delay = max(0.0, timer.next_time(time.time()) - time.time())
        try:
            await asyncio.wait_for(stopping.wait(), delay)
            return
        except TimeoutError:
            pass
        timer.fired += 1
        # Fired in the background: a slow run never delays the next firing (EventBridge does not wait).
        task = asyncio.get_running_loop().create_task(fire(timer.schedule))
        running.add(task)
        task.add_done_callback(running.discard)
