"""The two job queues of serverless.yml in the running stack: a task sent to `long` runs on the
`workerLong` function, and long tasks there never hold up short ones on the default queue (each
queue has its own worker function and its own pollers, as each has its own event source on AWS)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from infra.local.stack import LocalStack
from tests.integration.local_stack.client import WAIT_SECONDS, Api

pytestmark = pytest.mark.slow

LONG_SECONDS = 3


@pytest.fixture(scope="module")
def api(local_stack: LocalStack) -> Api:
    return Api(local_stack, local_stack.create_token())


def _submit(api: Api, body: dict[str, Any]) -> str:
    status, job = api.call("POST", "/api/jobs/", body)
    assert status == 202, job
    return str(job["id"])


def _finished(api: Api, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        status, job = api.call("GET", f"/api/jobs/{job_id}/")
        assert status == 200, job
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish within {WAIT_SECONDS} s")


def test_long_tasks_never_delay_short_ones(api: Api, local_stack: LocalStack) -> None:
    # More long jobs than the stack runs at once, so some wait for the long worker, then short ones.
    long_jobs = [
        _submit(api, {"task": "countdown", "params": {"seconds": LONG_SECONDS}, "queue_name": "long"}) for _ in range(3)
    ]
    short_jobs = [_submit(api, {"task": "word_count", "params": {"text": f"short job {n}"}}) for n in range(3)]

    shorts = [_finished(api, job_id) for job_id in short_jobs]
    longs = [_finished(api, job_id) for job_id in long_jobs]

    assert {job["status"] for job in shorts + longs} == {"succeeded"}
    assert {job["queue_name"] for job in longs} == {"long"}
    assert {job["queue_name"] for job in shorts} == {"default"}
    # Every short job ended before the first long one did, although all long ones were sent first.
    assert max(job["finished_at"] for job in shorts) < min(job["finished_at"] for job in longs)
    # The long jobs ran on the long queue's own function, one message per invocation (batchSize 1).
    invocations = local_stack.wait_for_log(r"workerLong\s.*INVOKE sqs polyglot-local-jobs-long \(1 records\)", count=3)
    assert len(invocations) >= 3
