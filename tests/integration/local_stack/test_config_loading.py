"""How the local stack reads the two files: what it runs, and clear failures for what it cannot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from infra.check.config import SERVERLESS, ConfigError
from infra.local.cfn import CfnError, evaluate, localize
from infra.local.config import load_spec
from infra.local.scheduler import Cron, ScheduleError, rate_seconds


def test_the_real_files_give_every_function_event_and_route() -> None:
    spec = load_spec()
    assert {"worker", "websocket", "push", "polyglot-local"} <= set(spec.functions)
    assert {source.function for source in spec.sqs_sources} == {"worker", "workerLong", "push", "webhooksDeliver"}
    # The two job queues: each its own worker function, timeout and concurrency cap.
    queues = {source.function: source for source in spec.sqs_sources}
    assert queues["worker"].queue == {"Fn::GetAtt": ["JobsQueue", "Arn"]}
    assert queues["workerLong"].queue == {"Fn::GetAtt": ["LongJobsQueue", "Arn"]}
    assert (queues["worker"].max_concurrency, queues["workerLong"].max_concurrency) == (20, 5)
    assert queues["push"].max_concurrency is None
    assert (spec.functions["worker"].timeout, spec.functions["workerLong"].timeout) == (300, 900)
    assert spec.functions["workerLong"].handler == spec.functions["worker"].handler
    assert spec.functions["workerLong"].code_root == spec.functions["worker"].code_root
    assert spec.functions["workerLong"].django
    assert "polyglot-local-jobs-long" in str(spec.resources["LongJobsQueue"]["Properties"]["QueueName"])
    assert all(source.report_failures for source in spec.sqs_sources)
    assert {"$connect", "$disconnect", "$default"} <= set(spec.ws_routes)
    assert spec.route_selection_expression == "$request.body.action"
    assert spec.django_settings == "django_app.config.settings.local"
    assert "polyglot-local-jobs" in str(spec.resources["JobsQueue"]["Properties"]["QueueName"])
    assert not spec.functions["websocket"].django
    assert spec.functions["worker"].django
    # The webhooks service: Node, its handler a file path (Lambda's Node rules), six HTTP API routes.
    assert spec.functions["webhooksApi"].runtime == "nodejs22.x"
    assert spec.functions["webhooksApi"].handler == "functions/webhooks/dist/index.api"
    assert spec.functions["worker"].runtime == "python3.11"
    assert {(route.method, route.path) for route in spec.http_routes} == {
        ("POST", "/webhooks/endpoints"),
        ("GET", "/webhooks/endpoints"),
        ("DELETE", "/webhooks/endpoints/{id}"),
        ("POST", "/webhooks/endpoints/{id}/test"),
        ("GET", "/webhooks/endpoints/{id}/deliveries"),
        ("POST", "/webhooks/deliveries/{id}/retry"),
    }
    assert {route.function for route in spec.http_routes} == {"webhooksApi"}
    assert spec.http_api["cors"]["allowedOrigins"] == ["http://127.0.0.1:8000"]


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    text = SERVERLESS.read_text()
    assert old in text
    copy = tmp_path / "serverless.yml"
    copy.write_text(text.replace(old, new, 1))
    return copy


def test_an_unknown_variable_source_fails_with_its_place(tmp_path: Path) -> None:
    copy = _copy(tmp_path, "STAGE: ${sls:stage}", "STAGE: ${env:SOMETHING}")
    with pytest.raises(ConfigError, match=r"provider\.environment\.STAGE.*\$\{env:SOMETHING\}"):
        load_spec(serverless_path=copy)


def test_an_event_type_not_emulated_fails(tmp_path: Path) -> None:
    copy = _copy(tmp_path, "      - schedule:\n", "      - sns: some-topic\n      - schedule:\n")
    with pytest.raises(ConfigError, match="'sns' is not emulated"):
        load_spec(serverless_path=copy)


def test_a_batch_lambda_would_refuse_is_refused(tmp_path: Path) -> None:
    copy = _copy(
        tmp_path,
        "batchSize: 10\n          maximumBatchingWindow: 0",
        "batchSize: 50\n          maximumBatchingWindow: 0",
    )
    with pytest.raises(ConfigError, match="over 10 needs a maximumBatchingWindow"):
        load_spec(serverless_path=copy)


@pytest.mark.parametrize("value", ["1", "1001", "2.5", "'5'"])
def test_a_maximum_concurrency_lambda_would_refuse_is_refused(tmp_path: Path, value: str) -> None:
    copy = _copy(tmp_path, "longJobsMaxConcurrency: 5", f"longJobsMaxConcurrency: {value}")
    with pytest.raises(ConfigError, match="workerLong: maximumConcurrency must be an integer from 2 to 1,000"):
        load_spec(serverless_path=copy)


def test_maximum_concurrency_caps_the_pollers_of_its_source() -> None:
    spec = load_spec(params={"longJobsMaxConcurrency": 2, "jobsMaxConcurrency": 1000})
    queues = {source.function: source for source in spec.sqs_sources}
    assert queues["workerLong"].pollers(4) == 2  # no more batches in the function at once than the cap
    assert queues["worker"].pollers(4) == 4
    assert queues["push"].pollers(3) == 3  # no cap: the stack's --pollers


def test_params_override_the_stage_values() -> None:
    spec = load_spec(params={"jobsVisibilityTimeout": 7})
    assert spec.resources["JobsQueue"]["Properties"]["VisibilityTimeout"] == 7


def test_intrinsics_and_execute_api_urls() -> None:
    refs = {"Queue": "https://queue", "Api": "abc123"}

    def lookup(name: str, attribute: str | None) -> str:
        if name not in refs:
            raise CfnError(name)
        return refs[name] if attribute is None else f"{refs[name]}#{attribute}"

    joined = evaluate(
        {"Fn::Join": ["", ["wss://", {"Ref": "Api"}, ".execute-api.", {"Ref": "AWS::Region"}, ".amazonaws.com/local"]]},
        lookup,
        region="eu-west-1",
        stack_name="s",
    )
    assert joined == "wss://abc123.execute-api.eu-west-1.amazonaws.com/local"
    assert localize(joined, api_id="abc123", ws_origin="http://127.0.0.1:9") == "ws://127.0.0.1:9/local"
    assert evaluate({"Fn::Sub": "arn:${AWS::Partition}:x:${Queue.Arn}"}, lookup, region="r", stack_name="s") == (
        "arn:aws:x:https://queue#Arn"
    )
    with pytest.raises(CfnError):
        evaluate({"Fn::ImportValue": "x"}, lookup, region="r", stack_name="s")


def test_rates() -> None:
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("cron(0 12 * * ? *)") is None
    with pytest.raises(ScheduleError):
        rate_seconds("rate(2 minute)")


def test_cron_next_times() -> None:
    after = dt.datetime(2026, 11, 27, 10, 30, tzinfo=dt.UTC)  # a Friday
    assert Cron.parse("cron(0 12 * * ? *)").next_after(after) == after.replace(hour=12, minute=0)
    assert Cron.parse("cron(*/15 * * * ? *)").next_after(after) == after.replace(minute=45)
    # Day of week 2 is Monday in EventBridge.
    assert Cron.parse("cron(0 8 ? * 2 *)").next_after(after) == dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    assert Cron.parse("cron(0 0 1 JAN ? *)").next_after(after) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(ScheduleError):
        Cron.parse("cron(0 0 L * ? *)")
    with pytest.raises(ScheduleError):
        Cron.parse("cron(0 0 * * * *)")  # day-of-month and day-of-week both set
