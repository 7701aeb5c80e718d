"""The Django function's IAM policy, as Zappa would give it to each stage.

Zappa's default execution policy (``zappa/policies/attach_policy.json``) allows ``s3:*``,
``sqs:*``, ``sns:*``, ``dynamodb:*``, ``kinesis:*``, ``lambda:InvokeFunction`` and more on ``*``,
and ``extra_permissions`` are *appended* to it (``Zappa.create_iam_roles``). Only two settings
replace it: ``attach_policy`` (a JSON file Zappa reads, relative to where ``zappa`` runs: the
repository root) or ``role_arn`` with ``manage_roles: false`` (a role made elsewhere). We use the
first, one file per stage under ``infra/iam/``, so the policy lives beside the code that needs it
and this module can read and check it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# EC2 network-interface actions Lambda needs to attach a function to a VPC. AWS allows them only
# on Resource "*", so they are the one exception to "no wildcard resource", and only with a VPC.
VPC_ACTIONS = frozenset(
    {
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
)


class PolicyUnreadable(Exception):
    """The stage names a policy file that is missing or not a policy document."""


def as_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def lambda_name(zappa: dict[str, Any], stage: str) -> str:
    """The function name Zappa gives a stage (``project_name-stage``); its log group follows."""
    return f"{zappa.get('project_name', '')}-{stage}"


def has_own_role(zappa: dict[str, Any]) -> bool:
    """A role made elsewhere (serverless.yml, CloudFormation) that Zappa leaves alone."""
    return bool(zappa.get("role_arn")) and zappa.get("manage_roles") is False


def policy_statements(zappa: dict[str, Any], root: Path) -> list[dict[str, Any]]:
    """The statements of the stage's ``attach_policy`` file, plus any ``extra_permissions``
    (Zappa appends them to whatever policy it attaches)."""
    path = root / str(zappa["attach_policy"])
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise PolicyUnreadable(f"attach_policy {zappa['attach_policy']}: {error}") from error
    statements = document.get("Statement") if isinstance(document, dict) else None
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise PolicyUnreadable(f"attach_policy {zappa['attach_policy']}: no Statement list")
    return [*statements, *(zappa.get("extra_permissions") or [])]


def wildcard_problems(statements: list[dict[str, Any]], *, vpc: bool) -> list[str]:
    """What a least-privilege policy must not hold: wildcard actions, ``*`` resources (but the VPC
    actions), the VPC actions without a VPC, ``NotAction``/``NotResource`` (allow all but …)."""
    found = []
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            found.append(f"statement {statement.get('Sid', '?')} uses NotAction/NotResource")
        actions = as_list(statement.get("Action", []))
        resources = as_list(statement.get("Resource", []))
        for action in actions:
            if "*" in action:
                found.append(f"action {action} is a wildcard")
            elif action in VPC_ACTIONS and not vpc:
                found.append(f"{action} without a vpc_config")
        if "*" in resources and not all(action in VPC_ACTIONS for action in actions):
            found.append(f"{', '.join(actions)} on Resource '*'")
    return found


def missing_vpc_actions(statements: list[dict[str, Any]]) -> set[str]:
    granted = {action for s in statements if s.get("Effect") == "Allow" for action in as_list(s.get("Action", []))}
    return set(VPC_ACTIONS) - granted


def log_problems(statements: list[dict[str, Any]], *, function: str) -> list[str]:
    """Logs only to the function's own group; without CreateLogStream/PutLogEvents there it
    logs nothing at all (Lambda drops the output silently)."""
    own = f":log-group:/aws/lambda/{function}:"
    found = []
    granted = set()
    for statement in statements:
        for action in as_list(statement.get("Action", [])):
            if not action.startswith("logs:"):
                continue
            for resource in as_list(statement.get("Resource", [])):
                if own in resource + ":":
                    granted.add(action)
                else:
                    found.append(f"{action} on {resource}, not its own log group /aws/lambda/{function}")
    for needed in ("logs:CreateLogStream", "logs:PutLogEvents"):
        if needed not in granted:
            found.append(f"no {needed} on its log group /aws/lambda/{function}")
    return found
