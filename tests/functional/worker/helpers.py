"""Small helpers shared by the worker tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import OperationalError, connection

from contracts.job_event import JobEvent
from contracts.job_message import JobMessage
from tests.aws import aws_client, drain
from tests.functional.worker import tasks


def poison_send(*, queue_url: str, body: str) -> str:
    return str(aws_client("sqs").send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"])


def job_message_body(*, job_id: uuid.UUID, task: str, v: int = 1) -> str:
    body = JobMessage(job_id=job_id, task=task, attempt=0).model_dump(mode="json")
    body["v"] = v
    import json

    return json.dumps(body)


def events_of(*, queue_url: str, job_id: Any, expect: int, timeout: float = 5.0) -> list[JobEvent]:
    """The events of job ``job_id`` (of every job when None) that reached the subscribed queue, sorted
    by seq; waits (bounded) until ``expect`` arrived, then a little longer to catch any extra one."""
    found: list[JobEvent] = []

    def mine() -> list[JobEvent]:
        return [e for e in found if job_id is None or str(e.job_id) == str(job_id)]

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found += [JobEvent.model_validate_json(m["Body"]) for m in drain(queue_url, wait_seconds=0)]
        if len(mine()) >= expect:
            break
        time.sleep(0.1)
    time.sleep(0.2)  # a duplicate would arrive right behind the others
    found += [JobEvent.model_validate_json(m["Body"]) for m in drain(queue_url, wait_seconds=0)]
    return sorted(mine(), key=lambda e: e.seq)


def wait_until(condition: Callable[[], bool], *, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


@contextmanager
def steps_hook(function: Callable[[int], None]) -> Iterator[None]:
    """``function(step)`` runs at each step of the ``wt_steps`` task while the block runs."""
    tasks.HOOKS["wt_steps"] = function
    try:
        yield
    finally:
        tasks.HOOKS.pop("wt_steps", None)


@contextmanager
def database_down_from_first_step() -> Iterator[None]:
    """From the ``wt_steps`` task's first step on, every statement fails as if the database had gone."""
    down = False

    def refuse_once_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if down:
            raise OperationalError("database unavailable (simulated)")
        return execute(sql, params, many, context)

    def go_down(_: int) -> None:
        nonlocal down
        down = True

    with steps_hook(go_down), connection.execute_wrapper(refuse_once_down):
        yield
