"""`npx osls package` for each stage, offline, and what it generates: the CloudFormation template
(cfn-lint, least-privilege roles, alarms, SSM outputs) and one package per function."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.rehearse import osls

pytestmark = [pytest.mark.package, pytest.mark.slow]

# Warnings cfn-lint may report on the generated template, each with why it is not ours to fix.
IGNORED_CFN_LINT = {
    # osls writes DependsOn on each function's role, and on the WebSocket function for its
    # permission, alongside the GetAtt that already implies it. Generated, harmless.
    "W3005",
}
TEMPLATE = "cloudformation-template-update-stack.json"


@pytest.fixture(scope="module", params=["dev", "prod"])
def packaged(request: pytest.FixtureRequest, osls_package: Callable[[str], Path]) -> tuple[str, Path]:
    stage = str(request.param)
    return stage, osls_package(stage)


def template(package_dir: Path) -> dict[str, Any]:
    return dict(json.loads((package_dir / TEMPLATE).read_text()))


def resources_of(tpl: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in tpl["Resources"].items() if r["Type"] == kind}


def test_cfn_lint_has_no_errors_and_only_explained_warnings(packaged: tuple[str, Path]) -> None:
    _, package_dir = packaged
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "json", str(package_dir / TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    findings = json.loads(completed.stdout or "[]")
    unexplained = [f for f in findings if f["Rule"]["Id"] not in IGNORED_CFN_LINT]
    assert not unexplained, json.dumps(unexplained, indent=2)[:4000]
    assert completed.returncode in (0, 4), completed.stderr  # 4: warnings only (all explained above)


def test_each_function_has_its_own_least_privilege_role(packaged: tuple[str, Path]) -> None:
    stage, package_dir = packaged
    tpl = template(package_dir)
    assert "IamRoleLambdaExecution" not in tpl["Resources"], "a shared role would give every function every right"
    functions = resources_of(tpl, "AWS::Lambda::Function")
    roles = {name: f["Properties"]["Role"]["Fn::GetAtt"][0] for name, f in functions.items()}
    assert len(set(roles.values())) == len(functions) == 6

    def actions(role: str) -> dict[str, set[str]]:
        """Every action of the role, with the resources it may act on (as JSON, for intrinsics)."""
        granted: dict[str, set[str]] = {}
        for policy in tpl["Resources"][role]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                assert statement["Resource"] != "*", f"{role}: {statement['Action']} on every resource"
                listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in listed:
                    granted.setdefault(action, set()).add(json.dumps(statement["Resource"], sort_keys=True))
        return granted

    worker = actions(roles["WorkerLambdaFunction"])
    worker_long = actions(roles["WorkerLongLambdaFunction"])
    websocket = actions(roles["WebsocketLambdaFunction"])
    push = actions(roles["PushLambdaFunction"])
    webhooks_api = actions(roles["WebhooksApiLambdaFunction"])
    webhooks_deliver = actions(roles["WebhooksDeliverLambdaFunction"])
    table_actions = {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query",
        "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
    }  # fmt: skip
    logs = {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert set(worker) == set(worker_long) == logs | {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility",
        "sqs:SendMessage", "sns:Publish", "ssm:GetParametersByPath",
    }  # fmt: skip
    # Each worker consumes its own queue only, and may send to both (periodic tasks, the sweeps).
    consume = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility")
    for role, queue in ((worker, "JobsQueue"), (worker_long, "LongJobsQueue")):
        for action in consume:
            assert role[action] == {json.dumps({"Fn::GetAtt": [queue, "Arn"]})}, (queue, action)
        assert role["sqs:SendMessage"] == {
            json.dumps([{"Fn::GetAtt": ["JobsQueue", "Arn"]}, {"Fn::GetAtt": ["LongJobsQueue", "Arn"]}])
        }
    assert worker["logs:PutLogEvents"] == {json.dumps({"Fn::GetAtt": ["WorkerLogGroup", "Arn"]})}
    assert worker_long["logs:PutLogEvents"] == {json.dumps({"Fn::GetAtt": ["WorkerLongLogGroup", "Arn"]})}
    assert set(websocket) == logs | table_actions | {"execute-api:ManageConnections", "ssm:GetParameters"}
    # The push path reads subscribers, deletes gone connections and blocks a deactivated user
    # (tests/functional/websocket/test_push.py).
    assert set(push) == logs | {"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:PutItem"} | {
        "execute-api:ManageConnections", "ssm:GetParameters",
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
    }  # fmt: skip
    webhooks_table = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}
    assert set(webhooks_api) == logs | webhooks_table | {
        "dynamodb:DeleteItem", "sqs:SendMessage", "sns:SetSubscriptionAttributes", "ssm:GetParameters",
    }  # fmt: skip
    assert set(webhooks_deliver) == logs | webhooks_table | {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:SendMessage", "ssm:GetParameters",
    }  # fmt: skip
    assert webhooks_api["sns:SetSubscriptionAttributes"] == {json.dumps({"Ref": "WebhooksSubscription"})}
    for role in (webhooks_api, webhooks_deliver):
        assert role["sqs:SendMessage"] == {json.dumps({"Fn::GetAtt": ["WebhooksQueue", "Arn"]})}
        assert json.dumps({"Fn::GetAtt": ["WebhooksTable", "Arn"]}) in next(iter(role["dynamodb:Query"]))
    # The API reads Django's public URL only; the deliverer also its own credential, under a path no
    # other function's policy names.
    [api_readable] = [json.loads(resources) for resources in webhooks_api["ssm:GetParameters"]]
    assert [entry["Fn::Sub"].rsplit("/", 1)[-1] for entry in api_readable] == ["api-base-url"]
    [deliver_readable] = [json.loads(resources) for resources in webhooks_deliver["ssm:GetParameters"]]
    assert [entry["Fn::Sub"].split(":parameter", 1)[1] for entry in deliver_readable] == [
        f"/polyglot/{stage}/api-base-url",
        f"/polyglot-webhooks/{stage}/django-credential",
    ]
    # The verifiers read two public parameters by name, never the path that holds Django's secrets.
    for role in (websocket, push):
        [readable] = [json.loads(resources) for resources in role["ssm:GetParameters"]]
        assert [entry["Fn::Sub"].rsplit("/", 1)[-1] for entry in readable] == ["api-base-url", "auth-jwks"]
    # Each right on the one resource it concerns.
    assert push["sqs:ReceiveMessage"] == {json.dumps({"Fn::GetAtt": ["PushQueue", "Arn"]})}
    assert websocket["dynamodb:PutItem"] == {json.dumps({"Fn::GetAtt": ["ConnectionsTable", "Arn"]})}
    for role in (worker, worker_long):
        (ssm_resource,) = role["ssm:GetParametersByPath"]
        assert f"parameter/polyglot/{stage}" in ssm_resource
    (manage,) = push["execute-api:ManageConnections"]
    assert "WebsocketsApi" in manage
    assert f"/{stage}/*/@connections/*" in manage


def test_queues_alarms_logs_and_ssm_outputs(packaged: tuple[str, Path]) -> None:
    stage, package_dir = packaged
    tpl = template(package_dir)
    alarms = resources_of(tpl, "AWS::CloudWatch::Alarm")
    watched = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] for a in alarms.values()}
    assert watched == {"JobsDLQ", "LongJobsDLQ", "PushDLQ", "WebhooksDLQ"}
    for alarm in alarms.values():
        assert alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmsTopic"}]

    retention = {r["Properties"]["RetentionInDays"] for r in resources_of(tpl, "AWS::Logs::LogGroup").values()}
    assert retention == {90 if stage == "prod" else 14}

    parameters = {r["Properties"]["Name"]: r["Properties"] for r in resources_of(tpl, "AWS::SSM::Parameter").values()}
    prefix = f"/polyglot/{stage}/"
    assert set(parameters) == {
        f"{prefix}{name}"
        for name in (
            "jobs-queue-url",
            "jobs-long-queue-url",
            "job-events-topic-arn",
            "websocket-url",
            "management-endpoint",
            "webhooks-api-url",
        )
    }
    assert parameters[f"{prefix}webhooks-api-url"]["Value"] == {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}
    assert all(p["Type"] == "String" for p in parameters.values())  # secrets are never in the template
    assert parameters[f"{prefix}jobs-queue-url"]["Value"] == {"Ref": "JobsQueue"}
    assert parameters[f"{prefix}jobs-long-queue-url"]["Value"] == {"Ref": "LongJobsQueue"}
    websocket_url = json.dumps(parameters[f"{prefix}websocket-url"]["Value"])
    assert '"wss://"' in websocket_url
    assert '"WebsocketsApi"' in websocket_url
    assert f'".amazonaws.com/", "{stage}"' in websocket_url
    management = json.dumps(parameters[f"{prefix}management-endpoint"]["Value"])
    assert '"https://"' in management
    assert ".amazonaws.com/" in management

    mappings = resources_of(tpl, "AWS::Lambda::EventSourceMapping")
    assert len(mappings) == 4
    assert all(m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings.values())
    # The two job queues: each capped, each to its own worker function.
    by_queue = {m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: m["Properties"] for m in mappings.values()}
    assert by_queue["JobsQueue"]["ScalingConfig"] == {"MaximumConcurrency": 20}
    assert by_queue["LongJobsQueue"]["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert by_queue["JobsQueue"]["FunctionName"]["Fn::GetAtt"][0] == "WorkerLambdaFunction"
    assert by_queue["LongJobsQueue"]["FunctionName"]["Fn::GetAtt"][0] == "WorkerLongLambdaFunction"
    queues = resources_of(tpl, "AWS::SQS::Queue")
    assert queues["JobsQueue"]["Properties"]["VisibilityTimeout"] == 1800  # 6 x the worker's 300 s
    assert queues["LongJobsQueue"]["Properties"]["VisibilityTimeout"] == 5400  # 6 x workerLong's 900 s
    assert queues["LongJobsQueue"]["Properties"]["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["LongJobsDLQ", "Arn"]},
        "maxReceiveCount": 5,
    }
    functions = resources_of(tpl, "AWS::Lambda::Function")
    assert functions["WorkerLambdaFunction"]["Properties"]["Timeout"] == 300
    assert functions["WorkerLongLambdaFunction"]["Properties"]["Timeout"] == 900
    for name in ("WorkerLambdaFunction", "WorkerLongLambdaFunction"):
        environment = functions[name]["Properties"]["Environment"]["Variables"]
        assert environment["JOBS_QUEUE_URL"] == {"Ref": "JobsQueue"}
        assert environment["JOBS_LONG_QUEUE_URL"] == {"Ref": "LongJobsQueue"}
    # Nothing account-specific: no 12-digit account id anywhere in the template.
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", json.dumps(tpl))


def _names(package_dir: Path, function: str) -> set[str]:
    with zipfile.ZipFile(osls.artifact(package_dir, function)) as archive:
        return set(archive.namelist())


def test_each_function_ships_only_its_own_requirements(packaged: tuple[str, Path]) -> None:
    _, package_dir = packaged
    worker = _names(package_dir, "worker")
    assert {
        "functions/worker/handler.py",
        "django_app/config/settings/lambda_.py",
        "contracts/job_message.py",
    } <= worker
    assert any(n.startswith("django/") for n in worker)
    assert any(n.startswith("aws_lambda_powertools/") for n in worker)
    assert any(n.startswith("psycopg_binary/") for n in worker)
    assert not any(n.startswith("functions/websocket/") for n in worker)
    for function in ("websocket", "push"):
        names = _names(package_dir, function)
        assert {"functions/websocket/handler.py", "functions/websocket/push.py", "contracts/job_event.py"} <= names
        assert any(n.startswith("fastapi/") for n in names)
        assert any(n.startswith("mangum/") for n in names)
        assert not any(n.startswith(("django/", "django_app/", "rest_framework/", "functions/worker/")) for n in names)
    assert _names(package_dir, "workerLong") == worker  # the same code, its own function
    for function in ("worker", "workerLong", "websocket", "push"):
        names = _names(package_dir, function)
        # Lambda's runtime provides boto3; shipping another copy only slows cold starts.
        assert not any(n.startswith(("boto3/", "botocore/", "s3transfer/")) for n in names), function
        assert not any("__pycache__/" in n and n.startswith(("functions/", "django_app/")) for n in names)
        # The TypeScript service (functions/webhooks) is no Python function's code.
        assert not any(n.startswith("functions/webhooks/") for n in names), function


def test_every_function_runs_the_one_runtime_zappa_runs(packaged: tuple[str, Path]) -> None:
    """serverless.yml derives its runtime from custom.pythonVersion: osls resolves it as the check does.
    The webhooks functions run Node, on a runtime Lambda still supports (nodejs20.x is deprecated)."""
    from infra.check.config import load_zappa, zappa_stage

    stage, package_dir = packaged
    runtime = zappa_stage(load_zappa(), stage)["runtime"]
    functions = resources_of(template(package_dir), "AWS::Lambda::Function")
    node = {"WebhooksApiLambdaFunction", "WebhooksDeliverLambdaFunction"}
    assert {name: f["Properties"]["Runtime"] for name, f in functions.items()} == {
        name: "nodejs22.x" if name in node else runtime for name in functions
    }


def test_the_webhooks_functions_ship_the_bundle_alone(packaged: tuple[str, Path]) -> None:
    _, package_dir = packaged
    for function in ("webhooksApi", "webhooksDeliver"):
        assert _names(package_dir, function) == {"functions/webhooks/dist/index.mjs"}


def test_the_webhooks_api_answers_cors_for_the_page_and_hears_terminal_events_only(
    packaged: tuple[str, Path],
) -> None:
    stage, package_dir = packaged
    tpl = template(package_dir)
    apis = resources_of(tpl, "AWS::ApiGatewayV2::Api").values()
    (api,) = [api for api in apis if api["Properties"]["ProtocolType"] == "HTTP"]
    cors = api["Properties"]["CorsConfiguration"]
    from infra.check.config import load_serverless

    params = load_serverless()["params"]
    assert cors["AllowOrigins"] == [params.get(stage, {}).get("pageOrigin", params["default"]["pageOrigin"])]
    assert sorted(cors["AllowHeaders"]) == ["Authorization", "Content-Type"]
    routes = {r["Properties"]["RouteKey"] for r in resources_of(tpl, "AWS::ApiGatewayV2::Route").values()}
    assert {
        "POST /webhooks/endpoints", "GET /webhooks/endpoints", "DELETE /webhooks/endpoints/{id}",
        "POST /webhooks/endpoints/{id}/test", "GET /webhooks/endpoints/{id}/deliveries",
        "POST /webhooks/deliveries/{id}/retry",
    } <= routes  # fmt: skip
    subscription = tpl["Resources"]["WebhooksSubscription"]["Properties"]
    assert subscription["FilterPolicy"] == {"type": ["job.succeeded", "job.failed", "job.cancelled"]}
    assert subscription["RawMessageDelivery"] is True


def test_the_websocket_stage_is_throttled_and_connect_more_so(packaged: tuple[str, Path]) -> None:
    """serverless.yml's resources.extensions reach the stage osls generates (issue 17, finding 6)."""
    _, package_dir = packaged
    stages = resources_of(template(package_dir), "AWS::ApiGatewayV2::Stage")
    stage = stages["WebsocketsDeploymentStage"]
    default = stage["Properties"]["DefaultRouteSettings"]
    connect = stage["Properties"]["RouteSettings"]["$connect"]
    assert default["ThrottlingRateLimit"] > connect["ThrottlingRateLimit"] > 0
    assert default["ThrottlingBurstLimit"] > connect["ThrottlingBurstLimit"] > 0
