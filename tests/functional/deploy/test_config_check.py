"""`python -m infra.check`: passes on the repository's files and fails on a broken copy of each,
one rule at a time."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.check import check, load_configs
from infra.check.config import SERVERLESS, ZAPPA
from infra.check.django_role import VPC_ACTIONS
from infra.check.rules import DJANGO_SETTINGS, OPERATIONS_DOC, Problem
from infra.node_bundle import ensure_bundle

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def copies(tmp_path: Path) -> dict[str, Path]:
    paths = {"serverless": tmp_path / "serverless.yml", "zappa": tmp_path / "zappa_settings.json"}
    shutil.copy(SERVERLESS, paths["serverless"])
    shutil.copy(ZAPPA, paths["zappa"])
    paths["doc"] = tmp_path / "operations.md"
    shutil.copy(OPERATIONS_DOC, paths["doc"])
    # Zappa reads attach_policy relative to where it runs, beside zappa_settings.json.
    shutil.copytree(REPO / "infra" / "iam", tmp_path / "infra" / "iam")
    for stage in json.loads(paths["zappa"].read_text()):
        paths[f"policy-{stage}"] = tmp_path / "infra" / "iam" / f"django-{stage}.json"
    return paths


def edit_text(path: Path, old: str, new: str, *, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) >= count, f"{old!r} not in {path.name}: the test needs updating"
    path.write_text(text.replace(old, new, count))


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=4))


def all_stages(copies: dict[str, Path]) -> list[str]:
    """Every stage of the copies (dev and prod, and any other stage both files declare)."""
    return sorted(json.loads(copies["zappa"].read_text()))


def problems(copies: dict[str, Path], rule: str) -> list[Problem]:
    configs = load_configs(serverless=copies["serverless"], zappa=copies["zappa"], operations_doc=copies["doc"])
    found = check(configs, rules=[rule])
    assert all(p.rule == rule for p in found)
    return found


@pytest.mark.parametrize(
    "rule",
    [
        "stages",
        "region",
        "parameters",
        "django-role",
        "runtime",
        "visibility",
        "batch-failures",
        "dlq-retention",
        "concurrency",
    ],
)
def test_the_repository_files_pass(copies: dict[str, Path], rule: str) -> None:
    assert problems(copies, rule) == []


def test_stages_must_match(copies: dict[str, Path]) -> None:
    edit_json(copies["zappa"], lambda z: z.update(staging={"extends": "dev"}))
    found = problems(copies, "stages")
    assert len(found) == 1
    assert "'staging'" in found[0].message


def test_a_stage_missing_from_serverless_is_found(copies: dict[str, Path]) -> None:
    edit_text(copies["serverless"], "  prod:\n    logRetentionDays: 90\n", "")
    assert any("prod" in p.message for p in problems(copies, "stages"))


def test_regions_must_match(copies: dict[str, Path]) -> None:
    edit_json(copies["zappa"], lambda z: z["prod"].update(aws_region="eu-west-1"))
    found = problems(copies, "region")
    assert [p.message for p in found] == [
        "stage prod: zappa aws_region 'eu-west-1' != serverless.yml region 'us-east-1'"
    ]


def test_permission_arns_must_be_in_the_region(copies: dict[str, Path]) -> None:
    edit_text(
        copies["policy-dev"],
        "arn:aws:sns:us-east-1:*:polyglot-dev-job-events",
        "arn:aws:sns:eu-west-1:*:polyglot-dev-job-events",
    )
    found = problems(copies, "region")
    assert len(found) == 1
    assert "eu-west-1" in found[0].message
    assert "stage dev" in found[0].message


def test_the_parameter_prefix_must_match(copies: dict[str, Path]) -> None:
    edit_json(
        copies["zappa"],
        lambda z: z["prod"]["environment_variables"].update(SSM_PARAMETER_PREFIX="/polyglot/production"),
    )
    found = problems(copies, "parameters")
    assert any("SSM_PARAMETER_PREFIX '/polyglot/production'" in p.message for p in found)


def test_a_parameter_django_reads_must_be_exported(copies: dict[str, Path]) -> None:
    edit_text(
        copies["serverless"], "Name: ${self:custom.ssmPrefix}/websocket-url", "Name: ${self:custom.ssmPrefix}/ws-url"
    )
    found = problems(copies, "parameters")
    assert {p.message for p in found} == {
        f"stage {stage}: Django reads /polyglot/{stage}/websocket-url but serverless.yml does not export it "
        "(and it is not an operator parameter)"
        for stage in all_stages(copies)
    }


def test_the_django_function_must_be_allowed_this_stages_queue(copies: dict[str, Path]) -> None:
    edit_text(
        copies["policy-prod"], '"arn:aws:sqs:us-east-1:*:polyglot-prod-jobs"', '"arn:aws:sqs:us-east-1:*:polyglot-jobs"'
    )
    found = problems(copies, "parameters")
    assert [p.message for p in found] == [
        "stage prod: zappa sqs:SendMessage on arn:aws:sqs:us-east-1:*:polyglot-jobs: no such queue",
        "stage prod: zappa sqs:GetQueueAttributes on arn:aws:sqs:us-east-1:*:polyglot-jobs: no such queue",
    ]


def test_operator_parameters_must_be_documented(copies: dict[str, Path]) -> None:
    copies["doc"].write_text(re.sub(r"auth-signing-key-previous", "the previous key", copies["doc"].read_text()))
    found = problems(copies, "parameters")
    assert [p.message for p in found] == ["operations.md does not tell operators about auth-signing-key-previous"]


def test_visibility_must_cover_six_function_timeouts(copies: dict[str, Path]) -> None:
    edit_text(copies["serverless"], "pushVisibilityTimeout: 180", "pushVisibilityTimeout: 179")
    found = problems(copies, "visibility")
    assert {p.message for p in found} == {
        f"stage {stage}: PushQueue VisibilityTimeout 179 s < 6 x push's timeout 30 s" for stage in all_stages(copies)
    }


def test_the_long_queue_must_cover_six_long_worker_timeouts(copies: dict[str, Path]) -> None:
    edit_text(copies["serverless"], "longJobsVisibilityTimeout: 5400", "longJobsVisibilityTimeout: 1800")
    found = problems(copies, "visibility")
    assert {p.message for p in found} == {
        f"stage {stage}: LongJobsQueue VisibilityTimeout 1800 s < 6 x workerLong's timeout 900 s"
        for stage in all_stages(copies)
    }


@pytest.mark.parametrize("value", ["1", "1001", "'20'"])
def test_maximum_concurrency_must_be_in_aws_range(copies: dict[str, Path], value: str) -> None:
    edit_text(copies["serverless"], "longJobsMaxConcurrency: 5", f"longJobsMaxConcurrency: {value}")
    found = problems(copies, "concurrency")
    assert {p.message for p in found} == {
        f"stage {stage}: workerLong's SQS event maximumConcurrency {value} is not an integer from 2 to 1000"
        for stage in all_stages(copies)
    }


def test_django_reading_the_long_jobs_queue_url_finds_it_exported(copies: dict[str, Path], tmp_path: Path) -> None:
    # The settings as the django-tasks backend reads the long queue: from SSM on Lambda.
    settings = tmp_path / "base.py"
    settings.write_text(
        DJANGO_SETTINGS.read_text() + '\nJOBS_LONG_QUEUE_URL = env.str_("JOBS_LONG_QUEUE_URL", "", ssm=True)\n'
    )

    def found() -> list[Problem]:
        configs = load_configs(
            serverless=copies["serverless"],
            zappa=copies["zappa"],
            operations_doc=copies["doc"],
            django_settings=settings,
        )
        return check(configs, rules=["parameters"])

    assert found() == []
    edit_text(
        copies["serverless"],
        "Name: ${self:custom.ssmPrefix}/jobs-long-queue-url",
        "Name: ${self:custom.ssmPrefix}/long-queue-url",
    )
    assert {p.message for p in found()} == {
        f"stage {stage}: Django reads /polyglot/{stage}/jobs-long-queue-url but serverless.yml does not export it "
        "(and it is not an operator parameter)"
        for stage in all_stages(copies)
    }


def test_every_sqs_event_reports_batch_item_failures(copies: dict[str, Path]) -> None:
    text = copies["serverless"].read_text()
    push_block = text.index("  push:")
    copies["serverless"].write_text(
        text[:push_block]
        + text[push_block:].replace("          functionResponseType: ReportBatchItemFailures\n", "", 1)
    )
    found = problems(copies, "batch-failures")
    assert [p.message.split(":")[0] for p in found] == [f"stage {stage}" for stage in all_stages(copies)]
    assert all("push's SQS event lacks functionResponseType" in p.message for p in found)


def test_zappa_must_not_consume_sqs(copies: dict[str, Path]) -> None:
    event = {
        "function": "django_app.jobs.x.handle",
        "event_source": {"arn": "arn:aws:sqs:us-east-1:1:q", "events": ["sqs"]},
    }
    edit_json(copies["zappa"], lambda z: z["dev"].update(events=[event]))
    found = problems(copies, "batch-failures")
    # Every stage that extends dev inherits the event (prod does).
    assert {"stage dev", "stage prod"} <= {p.message.split(":")[0] for p in found}
    assert all("Zappa cannot set ReportBatchItemFailures" in p.message for p in found)


def test_a_dlq_must_keep_messages_longer_than_its_source(copies: dict[str, Path]) -> None:
    edit_text(
        copies["serverless"], "MessageRetentionPeriod: 1209600     # 14 days:", "MessageRetentionPeriod: 345600     #"
    )
    found = problems(copies, "dlq-retention")
    assert {p.message for p in found} == {
        f"stage {stage}: JobsDLQ keeps messages 345600 s, not longer than JobsQueue's 345600 s"
        for stage in all_stages(copies)
    }


@pytest.fixture
def bundled() -> None:
    """The Node handlers import from the webhooks bundle, as `make check-config` builds it first."""
    ensure_bundle()


@pytest.mark.slow
@pytest.mark.usefixtures("bundled")
def test_every_handler_imports_from_its_package(copies: dict[str, Path]) -> None:
    assert problems(copies, "handlers") == []


@pytest.mark.slow
@pytest.mark.usefixtures("bundled")
def test_a_node_handler_that_is_not_exported_or_on_a_deprecated_runtime_is_found(copies: dict[str, Path]) -> None:
    edit_text(
        copies["serverless"],
        "handler: functions/webhooks/dist/index.deliver",
        "handler: functions/webhooks/dist/index.delivery",
    )
    edit_text(copies["serverless"], "runtime: nodejs22.x", "runtime: nodejs20.x")
    assert [p.message for p in problems(copies, "handlers")] == [
        "webhooksDeliver: functions/webhooks/dist/index.delivery: functions/webhooks/dist/index.delivery is not an "
        "exported function"
    ]
    runtime = [p.message for p in problems(copies, "runtime")]
    assert runtime[0] == (
        "stage dev: serverless.yml function webhooksApi runs nodejs20.x: use one of nodejs22.x, nodejs24.x"
    )


@pytest.mark.slow
@pytest.mark.usefixtures("bundled")
def test_a_handler_that_does_not_import_is_found(copies: dict[str, Path]) -> None:
    edit_text(
        copies["serverless"], "handler: functions/websocket/push.handler", "handler: functions/websocket/pusher.handler"
    )
    edit_json(copies["zappa"], lambda z: z["prod"].update(django_settings="django_app.config.settings.lambda"))
    found = problems(copies, "handlers")
    messages = sorted(p.message for p in found)
    assert len(messages) == 2, messages  # the webhooks bundle is built (`bundled`), so its handlers import
    assert messages[0].startswith("push: functions/websocket/pusher.handler does not import from websocket/")
    assert "AttributeError" in messages[0]
    assert messages[1].startswith("zappa prod: django_settings django_app.config.settings.lambda:")


def test_the_cli_exits_non_zero_on_a_broken_copy(copies: dict[str, Path]) -> None:
    command = [
        sys.executable,
        "-m",
        "infra.check",
        "--serverless",
        str(copies["serverless"]),
        "--zappa",
        str(copies["zappa"]),
    ]
    ok = subprocess.run(
        [*command, "--rule", "visibility"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert ok.returncode == 0, ok.stderr
    edit_text(copies["serverless"], "jobsVisibilityTimeout: 1800", "jobsVisibilityTimeout: 60")
    broken = subprocess.run(
        [*command, "--rule", "visibility"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert broken.returncode == 1
    assert "[visibility] stage dev: JobsQueue VisibilityTimeout 60 s < 6 x worker's timeout 300 s" in broken.stderr


# --- the Django function's role (issue 17, finding 1) ---------------------------------------------


def test_a_stage_without_its_own_policy_would_get_zappas_default(copies: dict[str, Path]) -> None:
    edit_json(copies["zappa"], lambda z: z["prod"].pop("attach_policy"))
    # prod then extends dev's attach_policy, whose log group, queue and topic are dev's.
    found = [p.message for p in problems(copies, "django-role")]
    assert found
    assert all(m.startswith("stage prod: infra/iam/django-dev.json: ") for m in found)
    assert "no logs:PutLogEvents on its log group /aws/lambda/polyglot-prod" in found[-1]
    assert any("polyglot-dev-jobs: no such queue" in p.message for p in problems(copies, "parameters"))
    edit_json(copies["zappa"], lambda z: z["dev"].pop("attach_policy"))
    messages = [p.message for p in problems(copies, "django-role")]
    assert len(messages) == len(all_stages(copies)) - 1  # dev and prod; local has its own file
    assert all("Zappa gives the function its default policy" in m for m in messages)
    assert {m.split(":")[0] for m in messages} == {"stage dev", "stage prod"}


def test_a_role_made_elsewhere_replaces_the_default_only_unmanaged(copies: dict[str, Path]) -> None:
    def role_only(z: dict[str, Any], **settings: Any) -> None:
        for stage in z.values():
            stage.pop("attach_policy", None)
        z["dev"].update(role_arn="arn:aws:iam::123456789012:role/polyglot-django", **settings)

    # role_arn alone: Zappa still manages a role and attaches its default policy to it.
    edit_json(copies["zappa"], role_only)
    assert len(problems(copies, "django-role")) == len(all_stages(copies))
    edit_json(copies["zappa"], lambda z: role_only(z, manage_roles=False))
    assert problems(copies, "django-role") == []


def test_extra_permissions_are_refused_beside_a_policy(copies: dict[str, Path]) -> None:
    extra = {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "arn:aws:sqs:us-east-1:*:polyglot-dev-jobs"}
    edit_json(copies["zappa"], lambda z: z["dev"].update(extra_permissions=[extra]))
    found = [p.message for p in problems(copies, "django-role")]
    # prod and local extend dev, so they inherit the list too.
    assert found == [
        f"stage {stage}: extra_permissions: Zappa appends them to the policy; put them in infra/iam/django-{stage}.json"
        for stage in json.loads(copies["zappa"].read_text())
    ]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:us-east-1:*:polyglot-dev-jobs"},
            "action sqs:* is a wildcard",
        ),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "s3:GetObject on Resource '*'"),
        (
            {"Effect": "Allow", "Action": "ec2:CreateNetworkInterface", "Resource": "*"},
            "ec2:CreateNetworkInterface without a vpc_config",
        ),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::x"}, "uses NotAction/NotResource"),
        (
            {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "arn:aws:logs:us-east-1:*:log-group:*"},
            "logs:PutLogEvents on arn:aws:logs:us-east-1:*:log-group:*, not its own log group /aws/lambda/polyglot-dev",
        ),
    ],
)
def test_a_broad_statement_in_a_policy_file_is_found(
    copies: dict[str, Path], statement: dict[str, Any], expected: str
) -> None:
    policy = json.loads(copies["policy-dev"].read_text())
    policy["Statement"].append(statement)
    copies["policy-dev"].write_text(json.dumps(policy))
    found = [p.message for p in problems(copies, "django-role")]
    assert any(m.startswith("stage dev: infra/iam/django-dev.json: ") and expected in m for m in found), found


def test_the_function_must_be_able_to_log(copies: dict[str, Path]) -> None:
    policy = json.loads(copies["policy-prod"].read_text())
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != "OwnLogs"]
    copies["policy-prod"].write_text(json.dumps(policy))
    assert [p.message for p in problems(copies, "django-role")] == [
        "stage prod: infra/iam/django-prod.json: no logs:CreateLogStream on its log group /aws/lambda/polyglot-prod",
        "stage prod: infra/iam/django-prod.json: no logs:PutLogEvents on its log group /aws/lambda/polyglot-prod",
    ]


def test_a_vpc_needs_the_network_interface_actions(copies: dict[str, Path]) -> None:
    vpc = {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    edit_json(copies["zappa"], lambda z: z["prod"].update(vpc_config=vpc))
    found = [p.message for p in problems(copies, "django-role")]
    assert (
        "stage prod: infra/iam/django-prod.json: vpc_config is set but ec2:CreateNetworkInterface is not allowed"
        in found
    )
    policy = json.loads(copies["policy-prod"].read_text())
    policy["Statement"].append({"Effect": "Allow", "Action": sorted(VPC_ACTIONS), "Resource": "*"})
    copies["policy-prod"].write_text(json.dumps(policy))
    assert problems(copies, "django-role") == []


def test_a_missing_policy_file_is_found(copies: dict[str, Path]) -> None:
    copies["policy-local"].unlink()
    found = [p.message for p in problems(copies, "django-role")]
    assert len(found) == 1
    assert found[0].startswith("stage local: attach_policy infra/iam/django-local.json:")


# --- one Python runtime (issue 17, "a runtime AWS still supports") -----------------------------

OTHER_PYTHON = f"3.{sys.version_info.minor + 1}"  # a runtime this interpreter cannot build for


def test_zappas_runtime_must_be_serverless_runtime(copies: dict[str, Path]) -> None:
    edit_json(copies["zappa"], lambda z: z["prod"].update(runtime=f"python{OTHER_PYTHON}"))
    assert [p.message for p in problems(copies, "runtime")] == [
        f"stage prod: zappa_settings.json runtime 'python{OTHER_PYTHON}' != serverless.yml's 'python3.11'"
    ]


def test_the_wheels_and_the_python_bin_follow_the_one_setting(copies: dict[str, Path]) -> None:
    edit_text(copies["serverless"], "'--python-version=${self:custom.pythonVersion}'", "'--python-version=3.11'")
    edit_text(copies["serverless"], "pythonBin: python${self:custom.pythonVersion}", "pythonBin: python3.11")
    assert problems(copies, "runtime") == []  # the same value, written out
    edit_text(copies["serverless"], "'--python-version=3.11'", f"'--python-version={OTHER_PYTHON}'")
    edit_text(copies["serverless"], "pythonBin: python3.11", f"pythonBin: python{OTHER_PYTHON}")
    messages = {p.message.split(": ", 1)[1] for p in problems(copies, "runtime")}
    assert messages == {
        f"serverless.yml pythonBin 'python{OTHER_PYTHON}' is not python3.11",
        f"serverless.yml builds wheels for --python-version={OTHER_PYTHON}, the runtime is python3.11",
    }


def test_a_function_may_not_override_the_runtime(copies: dict[str, Path]) -> None:
    edit_text(copies["serverless"], "    handler: functions/websocket/push.handler\n",
              "    handler: functions/websocket/push.handler\n    runtime: python3.13\n")  # fmt: skip
    found = {p.message for p in problems(copies, "runtime")}
    assert found == {
        f"stage {s}: serverless.yml function push runs python3.13, the provider python3.11" for s in all_stages(copies)
    }


def test_changing_the_one_setting_alone_is_found_and_so_is_this_interpreter(copies: dict[str, Path]) -> None:
    edit_text(copies["serverless"], "pythonVersion: '3.11'", f"pythonVersion: '{OTHER_PYTHON}'")
    found = [p.message for p in problems(copies, "runtime")]
    assert [m for m in found if m.startswith("stage ")] == [
        f"stage {s}: zappa_settings.json runtime 'python3.11' != serverless.yml's 'python{OTHER_PYTHON}'"
        for s in all_stages(copies)
    ]
    edit_json(copies["zappa"], lambda z: z["dev"].update(runtime=f"python{OTHER_PYTHON}"))
    found = [p.message for p in problems(copies, "runtime")]
    assert len(found) == 1
    assert found[0].startswith(f"make package: the runtime is python{OTHER_PYTHON} but this is Python 3.")


def test_make_package_refuses_an_interpreter_that_is_not_the_runtimes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra import package

    settings = json.loads(ZAPPA.read_text())
    settings["dev"]["runtime"] = f"python{OTHER_PYTHON}"
    monkeypatch.setattr(package, "load_zappa", lambda path: settings)
    monkeypatch.setattr(package, "build", lambda stage: pytest.fail("built with the wrong interpreter"))
    monkeypatch.setattr(sys, "argv", ["infra.package", "--stage", "prod"])  # prod extends dev's runtime
    assert package.main() == 2
    assert f"package with Python {OTHER_PYTHON}" in capsys.readouterr().err


# --- stage throttling (issue 17, finding 6) ---------------------------------------------------------


def test_the_websocket_stage_and_its_connect_route_are_throttled(copies: dict[str, Path]) -> None:
    edit_text(copies["serverless"], "    wsConnectsPerSecond: 50\n", "    wsConnectsPerSecond: 0\n")
    edit_text(copies["serverless"], "          ThrottlingBurstLimit: ${param:wsMessagesBurst}\n", "")
    found = {p.message for p in problems(copies, "throttling")}
    assert found == {
        message
        for stage in all_stages(copies)
        for message in (
            f"stage {stage}: serverless.yml resources.extensions.WebsocketsDeploymentStage "
            "DefaultRouteSettings.ThrottlingBurstLimit is None, not a positive number",
            f"stage {stage}: serverless.yml resources.extensions.WebsocketsDeploymentStage "
            "RouteSettings.$connect.ThrottlingRateLimit is 0, not a positive number",
        )
    }


def test_every_zappa_stage_has_its_throttling(copies: dict[str, Path]) -> None:
    edit_json(copies["zappa"], lambda z: z["prod"].update(apigateway_stage_throttling={"rate_limit": 100}))
    assert [p.message for p in problems(copies, "throttling")] == [
        "stage prod: zappa_settings.json apigateway_stage_throttling.burst_limit is None, not a positive number"
    ]
