"""The rules that keep serverless.yml and zappa_settings.json deployable together.

Each rule takes the loaded configs and returns problems; none calls AWS. A rule names what is
wrong and where, so an operator can fix it without reading this file.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import lambda_runtime
from infra.check import django_role
from infra.check.config import REPO, Serverless, declared_stages, default_stage_and_region, zappa_stage
from infra.signing_keys.store import issuer_path

DJANGO_SETTINGS = REPO / "django_app" / "config" / "settings" / "base.py"
OPERATIONS_DOC = REPO / "docs" / "operations.md"
# Parameters under the stage's SSM path that an operator creates (SecureString: secrets never go
# through CloudFormation, where they would show in the template and the stack's history).
OPERATOR_PARAMETERS = {
    "django-secret-key",
    "auth-signing-key",
    "auth-signing-key-next",
    "auth-signing-key-previous",
    "auth-jwks",
    "database-url",
    "api-base-url",
}
# The token-signing keys' own path (/polyglot-issuer/<stage>): only the Django function reads it.
ISSUER_PREFIX_VARIABLE = "SSM_ISSUER_PARAMETER_PREFIX"
SQS_DEFAULT_RETENTION = 345_600  # 4 days, AWS's default MessageRetentionPeriod
SQS_DEFAULT_VISIBILITY = 30
LAMBDA_DEFAULT_TIMEOUT = 6  # osls's default function timeout
VISIBILITY_FACTOR = 6  # AWS: queue visibility timeout >= 6 x the function timeout


@dataclass(frozen=True)
class Problem:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


@dataclass(frozen=True)
class Configs:
    serverless_raw: dict[str, Any]
    zappa: dict[str, dict[str, Any]]
    stages: dict[str, Serverless]  # serverless.yml resolved per stage
    django_settings: Path = DJANGO_SETTINGS
    operations_doc: Path = OPERATIONS_DOC
    root: Path = REPO
    # Where zappa runs, beside zappa_settings.json: attach_policy paths are relative to it.
    zappa_dir: Path = REPO


def _ref_name(value: Any) -> str | None:
    """The logical id in ``!Ref X`` or ``!GetAtt X.Arn``."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def _sqs_events(function: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for event in function.get("events") or []:
        if isinstance(event, dict) and "sqs" in event:
            sqs = event["sqs"]
            yield sqs if isinstance(sqs, dict) else {"arn": sqs}


# --- stages and region --------------------------------------------------------------------------


def rule_stages(configs: Configs) -> list[Problem]:
    problems = []
    serverless = declared_stages(configs.serverless_raw)
    zappa = set(configs.zappa)
    if serverless != zappa:
        problems.append(
            Problem(
                "stages",
                f"serverless.yml declares stages {sorted(serverless)} (under params), "
                f"zappa_settings.json {sorted(zappa)}: each stage must be in both",
            )
        )
    default_stage, _ = default_stage_and_region(configs.serverless_raw)
    if default_stage not in zappa:
        problems.append(Problem("stages", f"serverless.yml's default stage {default_stage!r} is not a Zappa stage"))
    return problems


_ARN_REGION = re.compile(r"^arn:aws[\w-]*:[\w-]+:([\w-]*):")


def rule_region(configs: Configs) -> list[Problem]:
    problems = []
    for stage, serverless in configs.stages.items():
        if stage not in configs.zappa:
            continue
        zappa = zappa_stage(configs.zappa, stage)
        if zappa.get("aws_region") != serverless.region:
            problems.append(
                Problem(
                    "region",
                    f"stage {stage}: zappa aws_region {zappa.get('aws_region')!r} != serverless.yml region "
                    f"{serverless.region!r}",
                )
            )
        for statement in _django_statements(zappa, configs.zappa_dir):
            for arn in django_role.as_list(statement.get("Resource", [])):
                match = _ARN_REGION.match(arn)
                if match and match.group(1) not in ("", "*", serverless.region):
                    problems.append(
                        Problem("region", f"stage {stage}: the Django function's policy names region in {arn}")
                    )
    return problems


# --- SSM parameter names -----------------------------------------------------------------------


def parameter_name(setting: str) -> str:
    """As django_app/config/env.py derives it: JOBS_QUEUE_URL -> jobs-queue-url."""
    return setting.lower().replace("_", "-")


def django_ssm_settings(path: Path, *, prefix_variable: str = "SSM_PARAMETER_PREFIX") -> set[str]:
    """The settings Django reads with ``ssm=True`` under ``prefix_variable``'s path (from the settings
    module's source; ``ssm_prefix=`` names another path's variable, directly or through a constant)."""
    tree = ast.parse(path.read_text())
    constants = {
        target.id: node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        ssm = keywords.get("ssm")
        if not (isinstance(ssm, ast.Constant) and ssm.value):
            continue
        prefix_node = keywords.get("ssm_prefix")
        if isinstance(prefix_node, ast.Constant):
            prefix = prefix_node.value
        elif isinstance(prefix_node, ast.Name):
            prefix = constants.get(prefix_node.id)
        else:
            prefix = "SSM_PARAMETER_PREFIX"
        if prefix == prefix_variable:
            names.add(str(node.args[0].value))
    return names


def exported_parameters(serverless: Serverless) -> dict[str, str]:
    """Names of the AWS::SSM::Parameter resources → their logical ids."""
    return {
        str(resource["Properties"]["Name"]): logical
        for logical, resource in serverless.resources.items()
        if resource.get("Type") == "AWS::SSM::Parameter"
    }


def _resource_names(serverless: Serverless, kind: str, name_property: str) -> set[str]:
    return {
        str(resource.get("Properties", {}).get(name_property))
        for resource in serverless.resources.values()
        if resource.get("Type") == kind
    }


def rule_parameters(configs: Configs) -> list[Problem]:
    problems = []
    read_by_django = {parameter_name(name) for name in django_ssm_settings(configs.django_settings)}
    doc = configs.operations_doc.read_text() if configs.operations_doc.exists() else ""
    for name in sorted(OPERATOR_PARAMETERS):
        if name not in doc:
            problems.append(
                Problem("parameters", f"{configs.operations_doc.name} does not tell operators about {name}")
            )
    for stage, serverless in configs.stages.items():
        if stage not in configs.zappa:
            continue
        zappa = zappa_stage(configs.zappa, stage)
        environment = zappa.get("environment_variables") or {}
        prefix = str((serverless.provider.get("environment") or {}).get("SSM_PARAMETER_PREFIX", ""))
        if environment.get("STAGE") != stage:
            problems.append(Problem("parameters", f"stage {stage}: zappa STAGE is {environment.get('STAGE')!r}"))
        issuer_prefix = issuer_path(prefix)
        if django_ssm_settings(configs.django_settings, prefix_variable=ISSUER_PREFIX_VARIABLE) and (
            environment.get(ISSUER_PREFIX_VARIABLE) != issuer_prefix
        ):
            problems.append(
                Problem(
                    "parameters",
                    f"stage {stage}: zappa {ISSUER_PREFIX_VARIABLE} {environment.get(ISSUER_PREFIX_VARIABLE)!r} != "
                    f"{issuer_prefix!r}: the signing keys need a path no other function reads",
                )
            )
        if not prefix or environment.get("SSM_PARAMETER_PREFIX") != prefix:
            problems.append(
                Problem(
                    "parameters",
                    f"stage {stage}: zappa SSM_PARAMETER_PREFIX {environment.get('SSM_PARAMETER_PREFIX')!r} != "
                    f"serverless.yml's {prefix!r}",
                )
            )
        exported = {name.rsplit("/", 1)[-1]: name for name in exported_parameters(serverless)}
        for short, full in exported.items():
            if full != f"{prefix}/{short}":
                problems.append(Problem("parameters", f"stage {stage}: {full} is outside the prefix {prefix}"))
        for name in sorted(read_by_django - set(exported) - OPERATOR_PARAMETERS):
            problems.append(
                Problem(
                    "parameters",
                    f"stage {stage}: Django reads {prefix}/{name} but serverless.yml does not export it "
                    "(and it is not an operator parameter)",
                )
            )
        problems += _zappa_permissions(stage, _django_statements(zappa, configs.zappa_dir), serverless, prefix)
    return problems


def _django_statements(zappa: dict[str, Any], root: Path) -> list[dict[str, Any]]:
    """The stage's own policy statements; none when it has no readable policy file (the
    django-role rule reports that)."""
    if "attach_policy" not in zappa:
        return list(zappa.get("extra_permissions") or [])
    try:
        return django_role.policy_statements(zappa, root)
    except django_role.PolicyUnreadable:
        return []


def _zappa_permissions(
    stage: str, statements: list[dict[str, Any]], serverless: Serverless, prefix: str
) -> list[Problem]:
    """The Django function's policy names this stage's queue, topic and parameter path."""
    problems = []
    queues = _resource_names(serverless, "AWS::SQS::Queue", "QueueName")
    topics = _resource_names(serverless, "AWS::SNS::Topic", "TopicName")
    actions_seen: set[str] = set()
    for statement in statements:
        for action in django_role.as_list(statement.get("Action", [])):
            actions_seen.add(action)
            for arn in django_role.as_list(statement.get("Resource", [])):
                last = arn.rsplit(":", 1)[-1]
                if action.startswith("sqs:") and last not in queues:
                    problems.append(Problem("parameters", f"stage {stage}: zappa {action} on {arn}: no such queue"))
                if action.startswith("sns:") and last not in topics:
                    problems.append(Problem("parameters", f"stage {stage}: zappa {action} on {arn}: no such topic"))
                paths = (f":parameter{prefix}", f":parameter{issuer_path(prefix)}")
                if action == "ssm:GetParametersByPath" and not arn.endswith(paths):
                    problems.append(Problem("parameters", f"stage {stage}: zappa reads SSM path {arn}, not {prefix}"))
    if "ssm:GetParametersByPath" not in actions_seen:
        problems.append(Problem("parameters", f"stage {stage}: zappa may not ssm:GetParametersByPath on {prefix}"))
    return problems


# --- the Django function's role ---------------------------------------------------------------


def rule_django_role(configs: Configs) -> list[Problem]:
    """Each Zappa stage replaces Zappa's default policy with its own least-privilege one."""
    problems = []
    for stage in configs.zappa:
        zappa = zappa_stage(configs.zappa, stage)

        def problem(message: str, stage: str = stage) -> None:
            problems.append(Problem("django-role", f"stage {stage}: {message}"))

        if django_role.has_own_role(zappa):
            continue
        if "attach_policy" not in zappa:
            problem(
                "no attach_policy (nor role_arn with manage_roles: false), so Zappa gives the function its "
                "default policy (s3:*, sqs:*, sns:*, dynamodb:*, kinesis:* on *, ...): set attach_policy to "
                f"infra/iam/django-{stage}.json"
            )
            continue
        if zappa.get("extra_permissions"):
            problem(f"extra_permissions: Zappa appends them to the policy; put them in {zappa['attach_policy']}")
        try:
            statements = django_role.policy_statements(zappa, configs.zappa_dir)
        except django_role.PolicyUnreadable as error:
            problem(str(error))
            continue
        vpc = bool((zappa.get("vpc_config") or {}).get("SubnetIds"))
        for message in django_role.wildcard_problems(statements, vpc=vpc):
            problem(f"{zappa['attach_policy']}: {message}")
        if vpc:
            for action in sorted(django_role.missing_vpc_actions(statements)):
                problem(f"{zappa['attach_policy']}: vpc_config is set but {action} is not allowed")
        function = django_role.lambda_name(zappa, stage)
        for message in django_role.log_problems(statements, function=function):
            problem(f"{zappa['attach_policy']}: {message}")
    return problems


# --- the Python runtime --------------------------------------------------------------------------


def _python_version_args(serverless: Serverless) -> list[str]:
    requirements = (serverless.raw.get("custom") or {}).get("pythonRequirements") or {}
    return [
        str(arg).split("=", 1)[1]
        for arg in requirements.get("pipCmdExtraArgs") or []
        if str(arg).startswith("--python-version=")
    ]


def rule_runtime(configs: Configs) -> list[Problem]:
    """One Python runtime everywhere (infra/lambda_runtime.py), and `make package` on its Python."""
    problems = []
    runtimes: set[str] = set()
    for stage, serverless in configs.stages.items():

        def problem(message: str, stage: str = stage) -> None:
            problems.append(Problem("runtime", f"stage {stage}: {message}"))

        runtime = str(serverless.provider.get("runtime", ""))
        version = lambda_runtime.runtime_version(runtime)
        if version is None:
            problem(f"serverless.yml provider.runtime {runtime!r} is not a Python runtime")
            continue
        runtimes.add(runtime)
        for name, function in serverless.functions.items():
            own = str(function.get("runtime", runtime))
            if lambda_runtime.is_node(own):
                if own not in lambda_runtime.NODE_RUNTIMES:
                    supported = ", ".join(lambda_runtime.NODE_RUNTIMES)
                    problem(f"serverless.yml function {name} runs {own}: use one of {supported}")
            elif own != runtime:
                problem(f"serverless.yml function {name} runs {own}, the provider {runtime}")
        requirements = (serverless.raw.get("custom") or {}).get("pythonRequirements") or {}
        if str(requirements.get("pythonBin", runtime)) != runtime:
            problem(f"serverless.yml pythonBin {requirements.get('pythonBin')!r} is not {runtime}")
        for wheel_version in _python_version_args(serverless) or ["(none)"]:
            if wheel_version != version:
                problem(f"serverless.yml builds wheels for --python-version={wheel_version}, the runtime is {runtime}")
        if stage in configs.zappa:
            zappa_runtime = zappa_stage(configs.zappa, stage).get("runtime")
            if zappa_runtime != runtime:
                problem(f"zappa_settings.json runtime {zappa_runtime!r} != serverless.yml's {runtime!r}")
    # `make package` compiles bytecode with this interpreter (the venv's, as `make check-config`).
    for runtime in sorted(runtimes):
        message = lambda_runtime.interpreter_problem(runtime)
        if message:
            problems.append(Problem("runtime", f"make package: {message}"))
    return problems


# --- API Gateway stage throttling --------------------------------------------------------------

# Zappa has no setting for stage throttling; this key (which Zappa ignores) holds the numbers the
# operator applies after each first deploy (docs/operations.md, "Stage throttling").
ZAPPA_THROTTLING = "apigateway_stage_throttling"


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def rule_throttling(configs: Configs) -> list[Problem]:
    """Both APIs' stages are throttled (the outer rate limit docs/security.md relies on)."""
    problems = []
    for stage, serverless in configs.stages.items():
        extensions = (serverless.raw.get("resources") or {}).get("extensions") or {}
        properties = (extensions.get("WebsocketsDeploymentStage") or {}).get("Properties") or {}
        default = properties.get("DefaultRouteSettings") or {}
        connect = (properties.get("RouteSettings") or {}).get("$connect") or {}
        for where, settings in (("DefaultRouteSettings", default), ("RouteSettings.$connect", connect)):
            for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
                if not _positive(settings.get(name)):
                    problems.append(
                        Problem(
                            "throttling",
                            f"stage {stage}: serverless.yml resources.extensions.WebsocketsDeploymentStage "
                            f"{where}.{name} is {settings.get(name)!r}, not a positive number",
                        )
                    )
        if stage not in configs.zappa:
            continue
        throttling = zappa_stage(configs.zappa, stage).get(ZAPPA_THROTTLING) or {}
        for name in ("rate_limit", "burst_limit"):
            if not _positive(throttling.get(name)):
                problems.append(
                    Problem(
                        "throttling",
                        f"stage {stage}: zappa_settings.json {ZAPPA_THROTTLING}.{name} is "
                        f"{throttling.get(name)!r}, not a positive number",
                    )
                )
    return problems


# --- queues -----------------------------------------------------------------------------------


def rule_visibility(configs: Configs) -> list[Problem]:
    problems = []
    for stage, serverless in configs.stages.items():
        default_timeout = int(serverless.provider.get("timeout", LAMBDA_DEFAULT_TIMEOUT))
        for name, function in serverless.functions.items():
            timeout = int(function.get("timeout", default_timeout))
            for sqs in _sqs_events(function):
                queue = _ref_name(sqs.get("arn"))
                resource = serverless.resources.get(queue or "")
                if resource is None:
                    problems.append(Problem("visibility", f"stage {stage}: {name}'s SQS event: unknown queue {queue}"))
                    continue
                visibility = int(resource.get("Properties", {}).get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY))
                if visibility < VISIBILITY_FACTOR * timeout:
                    problems.append(
                        Problem(
                            "visibility",
                            f"stage {stage}: {queue} VisibilityTimeout {visibility} s < {VISIBILITY_FACTOR} x "
                            f"{name}'s timeout {timeout} s",
                        )
                    )
    return problems


def rule_batch_failures(configs: Configs) -> list[Problem]:
    problems = []
    for stage, serverless in configs.stages.items():
        for name, function in serverless.functions.items():
            for sqs in _sqs_events(function):
                if sqs.get("functionResponseType") != "ReportBatchItemFailures":
                    problems.append(
                        Problem(
                            "batch-failures",
                            f"stage {stage}: {name}'s SQS event lacks functionResponseType: ReportBatchItemFailures "
                            "(without it Lambda ignores batchItemFailures and retries the whole batch)",
                        )
                    )
        zappa = zappa_stage(configs.zappa, stage) if stage in configs.zappa else {}
        for event in zappa.get("events") or []:
            arn = str((event.get("event_source") or {}).get("arn", ""))
            if ":sqs:" in arn:
                problems.append(
                    Problem(
                        "batch-failures",
                        f"stage {stage}: zappa event {event.get('function')} reads SQS; Zappa cannot set "
                        "ReportBatchItemFailures: put SQS consumers in serverless.yml",
                    )
                )
    return problems


def rule_dlq_retention(configs: Configs) -> list[Problem]:
    problems = []
    for stage, serverless in configs.stages.items():
        for name, resource in serverless.resources.items():
            properties = resource.get("Properties", {})
            if resource.get("Type") != "AWS::SQS::Queue" or "RedrivePolicy" not in properties:
                continue
            dlq = _ref_name(properties["RedrivePolicy"].get("deadLetterTargetArn"))
            target = serverless.resources.get(dlq or "")
            if target is None:
                problems.append(Problem("dlq-retention", f"stage {stage}: {name}'s DLQ {dlq} is not in the stack"))
                continue
            source_days = int(properties.get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION))
            dlq_days = int(target.get("Properties", {}).get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION))
            # SQS keeps a message's original enqueue time when it moves to the DLQ, so a DLQ that
            # keeps messages no longer than its source can drop them the moment they arrive.
            if dlq_days <= source_days:
                problems.append(
                    Problem(
                        "dlq-retention",
                        f"stage {stage}: {dlq} keeps messages {dlq_days} s, not longer than {name}'s {source_days} s",
                    )
                )
    return problems


# AWS: an SQS event source's ScalingConfig.MaximumConcurrency is 2-1,000; deploy fails otherwise.
MAX_CONCURRENCY_RANGE = (2, 1000)


def rule_concurrency(configs: Configs) -> list[Problem]:
    """Each SQS event's ``maximumConcurrency``, where set, is one CloudFormation accepts."""
    problems = []
    low, high = MAX_CONCURRENCY_RANGE
    for stage, serverless in configs.stages.items():
        for name, function in serverless.functions.items():
            for sqs in _sqs_events(function):
                if "maximumConcurrency" not in sqs:
                    continue
                value = sqs["maximumConcurrency"]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    problems.append(
                        Problem(
                            "concurrency",
                            f"stage {stage}: {name}'s SQS event maximumConcurrency {value!r} is not an integer "
                            f"from {low} to {high}",
                        )
                    )
    return problems


# --- handlers import --------------------------------------------------------------------------

_IMPORT = r"""
import importlib, os, sys
root, target, settings_module = sys.argv[1:4]
sys.path.insert(0, root)
if settings_module:
    import django
    django.setup()
    from django.core.wsgi import get_wsgi_application
    get_wsgi_application()
if target:
    module, attribute = target.rsplit(".", 1)
    handler = getattr(importlib.import_module(module), attribute)
    assert callable(handler), f"{target} is not callable"
"""

# Stand-ins so that importing settings never needs a secret or reaches SSM.
_IMPORT_ENV = {
    "DJANGO_SECRET_KEY": "infra-check-only",
    "SSM_PARAMETER_PREFIX": "",
    "DATABASE_URL": "sqlite:///:memory:",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _import(root: Path, *, target: str = "", settings_module: str = "", env: dict[str, str]) -> str | None:
    child_env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **_IMPORT_ENV, **env}
    if settings_module:
        child_env["DJANGO_SETTINGS_MODULE"] = settings_module
    # -I: only the package root is on sys.path (plus the installed requirements), not this repo.
    command = [sys.executable, "-I", "-B", "-c", _IMPORT, str(root), target, settings_module]
    return _child_error(command, cwd=root, env=child_env, timeout=120)


def _child_error(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str | None:
    """None when the import probe succeeds; else the last line it wrote to stderr."""
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if completed.returncode == 0:
        return None
    lines = completed.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit {completed.returncode}"


# Lambda's Node runtime: <path/module>.mjs, .js or .cjs under the package root, then the export.
_NODE_IMPORT = r"""
const [root, target] = process.argv.slice(1);
const dot = target.lastIndexOf(".");
const { existsSync } = await import("node:fs");
const { pathToFileURL } = await import("node:url");
const file = [".mjs", ".js", ".cjs"].map((s) => `${root}/${target.slice(0, dot)}${s}`).find(existsSync);
if (!file) {
  console.error(`${target.slice(0, dot)} is not built (npm run -w functions/webhooks build)`);
  process.exit(1);
}
const handler = (await import(pathToFileURL(file).href))[target.slice(dot + 1)];
if (typeof handler !== "function") { console.error(`${target} is not an exported function`); process.exit(1); }
"""


def _node_import(root: Path, handler: str) -> str | None:
    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    command = [node, "--input-type=module", "-e", _NODE_IMPORT, str(root), handler]
    return _child_error(command, cwd=root, env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}, timeout=60)


def _plain_env(environment: dict[str, Any]) -> dict[str, str]:
    """Function environment with CloudFormation values (known only once deployed) as stand-ins."""
    return {key: value if isinstance(value, str) else f"cfn-{key.lower()}" for key, value in environment.items()}


def rule_handlers(configs: Configs) -> list[Problem]:
    problems: list[Problem] = []
    stage = next(iter(configs.stages), None)
    if stage is None:
        return problems
    serverless = configs.stages[stage]
    for name, function in serverless.functions.items():
        handler = str(function.get("handler", ""))
        if lambda_runtime.is_node(str(function.get("runtime", ""))):
            error = _node_import(configs.root, handler)
            if error:
                problems.append(Problem("handlers", f"{name}: {handler}: {error}"))
            continue
        module_dir = configs.root / str(function.get("module", "."))
        if not module_dir.is_dir():
            problems.append(Problem("handlers", f"{name}: module folder {function.get('module')} does not exist"))
            continue
        path, _, attribute = handler.rpartition(".")
        if not path or not attribute:
            problems.append(Problem("handlers", f"{name}: handler {handler!r} is not <path>.<function>"))
            continue
        env = _plain_env({**(serverless.provider.get("environment") or {}), **(function.get("environment") or {})})
        env["SSM_PARAMETER_PREFIX"] = ""
        error = _import(module_dir, target=f"{path.replace('/', '.')}.{attribute}", env=env)
        if error:
            problems.append(Problem("handlers", f"{name}: {handler} does not import from {module_dir.name}/: {error}"))
    for zappa_name in configs.zappa:
        zappa = zappa_stage(configs.zappa, zappa_name)
        settings_module = str(zappa.get("django_settings", ""))
        environment = {
            **_plain_env(zappa.get("environment_variables") or {}),
            "SSM_PARAMETER_PREFIX": "",
            ISSUER_PREFIX_VARIABLE: "",
        }
        error = _import(configs.root, settings_module=settings_module, env=environment)
        if error:
            problems.append(Problem("handlers", f"zappa {zappa_name}: django_settings {settings_module}: {error}"))
        for event in zappa.get("events") or []:
            error = _import(configs.root, target=str(event.get("function", "")), env=environment)
            if error:
                problems.append(Problem("handlers", f"zappa {zappa_name}: event {event.get('function')}: {error}"))
    return problems


RULES: dict[str, Callable[[Configs], list[Problem]]] = {
    "stages": rule_stages,
    "region": rule_region,
    "parameters": rule_parameters,
    "django-role": rule_django_role,
    "runtime": rule_runtime,
    "throttling": rule_throttling,
    "visibility": rule_visibility,
    "batch-failures": rule_batch_failures,
    "dlq-retention": rule_dlq_retention,
    "concurrency": rule_concurrency,
    "handlers": rule_handlers,
}


def describe(problems: list[Problem]) -> str:
    return json.dumps([{"rule": p.rule, "message": p.message} for p in problems], indent=2)
