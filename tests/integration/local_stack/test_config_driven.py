"""The wiring comes from the files: a copy of serverless.yml with another batch size, batching
window and one route fewer, a shortened push visibility timeout and a shortened schedule, and the
local stack follows each change (poison messages reach the DLQ, the schedule fires)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.check.config import SERVERLESS, ZAPPA
from infra.local.stack import LocalStack
from tests.integration.local_stack.client import WAIT_SECONDS, Api, connect

pytestmark = pytest.mark.slow

SWEEP = "polyglot-local-sweep"
# A Zappa schedule (an `events` entry of the stage): Zappa's own keep-warm function, run by its handler.
ZAPPA_EVENT = {"function": "zappa.handler.keep_warm_callback", "expression": "rate(5 minutes)"}
ZAPPA_SCHEDULE = "polyglot-local-zappa.handler.keep_warm_callback"
BATCH = 3


def _tuned_copy(folder: Path) -> Path:
    """serverless.yml, edited as a developer would: the worker's batch and the routes."""
    text = SERVERLESS.read_text()
    worker_sqs = "          arn: !GetAtt JobsQueue.Arn\n          batchSize: 10\n          maximumBatchingWindow: 0\n"
    assert worker_sqs in text, "serverless.yml's worker event changed: update this test"
    text = text.replace(worker_sqs, worker_sqs.replace("batchSize: 10", f"batchSize: {BATCH}").replace(
        "maximumBatchingWindow: 0", "maximumBatchingWindow: 3"))  # fmt: skip
    ping_route = "      - websocket:\n          route: ping\n"
    assert ping_route in text
    text = text.replace(ping_route, "")
    copy = folder / "serverless.yml"
    copy.write_text(text)
    zappa = json.loads(ZAPPA.read_text())
    zappa["local"]["events"] = [ZAPPA_EVENT]
    (folder / "zappa_settings.json").write_text(json.dumps(zappa, indent=4))
    # The copy must still be the same stack otherwise (handlers resolve from the copy's folder;
    # zappa reads each stage's attach_policy file, infra/iam/, relative to the settings' folder).
    for module in (".lambda", "infra"):
        (folder / module).symlink_to(SERVERLESS.parent / module)
    return copy


@pytest.fixture(scope="module")
def tuned_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    folder = tmp_path_factory.mktemp("tuned")
    with LocalStack(
        serverless_path=_tuned_copy(folder),
        zappa_path=folder / "zappa_settings.json",
        params={"pushVisibilityTimeout": 1},
        schedule_seconds={SWEEP: 1, ZAPPA_SCHEDULE: 1},
    ) as stack:
        yield stack


def _sqs(stack: LocalStack) -> Any:
    return boto3.session.Session().client(
        "sqs", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip


def test_batch_size_and_window_come_from_the_copy(tuned_stack: LocalStack) -> None:
    sqs = _sqs(tuned_stack)
    queue = sqs.get_queue_url(QueueName="polyglot-local-jobs")["QueueUrl"]
    sqs.send_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(n), "MessageBody": f"not a job {n}"} for n in range(2 * BATCH)]
    )

    lines = tuned_stack.wait_for_log(r"worker .*INVOKE sqs polyglot-local-jobs \((\d+) records\)", count=2)
    sizes = [int(match.group(1)) for match in lines]
    assert sum(sizes) == 2 * BATCH
    assert max(sizes) == BATCH


def test_the_long_jobs_queue_drives_its_own_worker_function_one_record_at_a_time(tuned_stack: LocalStack) -> None:
    sqs = _sqs(tuned_stack)
    queue = sqs.get_queue_url(QueueName="polyglot-local-jobs-long")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": str(n), "MessageBody": f"not a job {n}"} for n in range(2)])

    lines = tuned_stack.wait_for_log(r"^\S+ (\S+) .*INVOKE sqs polyglot-local-jobs-long \((\d+) records\)", count=2)
    assert {(match.group(1), match.group(2)) for match in lines} == {("workerLong", "1")}


def test_a_poison_event_reaches_the_push_dlq(tuned_stack: LocalStack) -> None:
    sqs = _sqs(tuned_stack)
    push = sqs.get_queue_url(QueueName="polyglot-local-push")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="polyglot-local-push-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=push, MessageBody='{"not": "a job event"}')

    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT_SECONDS
    while not found and time.monotonic() < deadline:
        found = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2, AttributeNames=["All"]).get("Messages", [])
    assert [json.loads(message["Body"]) for message in found] == [{"not": "a job event"}]
    # It was received maxReceiveCount (5) times by the push function before SQS moved it.
    assert int(found[0]["Attributes"]["ApproximateReceiveCount"]) >= 5


def test_shortened_schedule_fires_with_its_input(tuned_stack: LocalStack) -> None:
    lines = tuned_stack.wait_for_log(rf"worker .*INVOKE schedule {SWEEP} ok", count=2)
    assert len(lines) >= 2


def test_zappa_events_fire_through_zappas_handler(tuned_stack: LocalStack) -> None:
    lines = tuned_stack.wait_for_log(rf"polyglot-local .*INVOKE schedule {re.escape(ZAPPA_SCHEDULE)} ok", count=2)
    assert len(lines) >= 2
    assert f"{ZAPPA_SCHEDULE} {ZAPPA_EVENT['expression']} -> polyglot-local" in tuned_stack.logs()


def test_a_removed_route_falls_back_to_default(tuned_stack: LocalStack) -> None:
    username = "route-user"
    tuned_stack.create_user(username, "a-long-password-1")
    api = Api(tuned_stack, tuned_stack.create_token(username=username))

    async def ping() -> dict[str, Any]:
        ws = await connect(api)
        try:
            await ws.send(json.dumps({"action": "ping", "id": "p1"}))
            return dict(json.loads(await asyncio.wait_for(ws.recv(), WAIT_SECONDS)))
        finally:
            await ws.close()

    # The websocket app answers every action in $default too: the route only decides the function.
    assert asyncio.run(ping()) == {"type": "pong", "id": "p1"}
    tuned_stack.wait_for_log(r"INVOKE ws \$default ok")
    routes = [m.group(1) for m in map(re.compile(r"INVOKE ws (\S+)").search, tuned_stack.logs().splitlines()) if m]
    assert "ping" not in routes


def test_the_default_stack_routes_ping_to_its_route(local_stack: LocalStack) -> None:
    api = Api(local_stack, local_stack.create_token())

    async def ping() -> None:
        ws = await connect(api)
        try:
            await ws.send(json.dumps({"action": "ping", "id": "p2"}))
            await asyncio.wait_for(ws.recv(), WAIT_SECONDS)
        finally:
            await ws.close()

    asyncio.run(ping())
    local_stack.wait_for_log(r"INVOKE ws ping ok")
