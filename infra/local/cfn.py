"""CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split), evaluated
against the resources the local stack created, and the execute-api URLs they build mapped to the
local WebSocket gateway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
_SUB = re.compile(r"\$\{([^}!]+)\}")


class CfnError(Exception):
    """An intrinsic the local stack cannot evaluate."""


Lookup = Callable[[str, str | None], Any]  # (logical id, attribute or None for Ref) -> value


def references(node: Any) -> set[str]:
    """The logical ids a value refers to (for creating resources in dependency order)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            found.add(str(node["Ref"]))
        elif set(node) == {"Fn::GetAtt"}:
            target = node["Fn::GetAtt"]
            found.add(str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0]))
        elif set(node) == {"Fn::Sub"}:
            template = node["Fn::Sub"][0] if isinstance(node["Fn::Sub"], list) else node["Fn::Sub"]
            found |= {name.split(".", 1)[0] for name in _SUB.findall(str(template)) if "::" not in name}
            if isinstance(node["Fn::Sub"], list):
                found |= references(node["Fn::Sub"][1])
        else:
            for value in node.values():
                found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def evaluate(node: Any, lookup: Lookup, *, region: str, stack_name: str) -> Any:
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": None,
    }

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                name = str(argument)
                return pseudo[name] if name in pseudo else lookup(name, None)
            if key == "Fn::GetAtt":
                parts = argument if isinstance(argument, list) else str(argument).split(".", 1)
                return lookup(str(parts[0]), str(parts[1]))
            if key == "Fn::Join":
                separator, items = argument
                return str(separator).join(str(walk(item)) for item in walk(items))
            if key == "Fn::Select":
                index, items = argument
                return walk(items)[int(walk(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(walk(text)).split(str(separator))
            if key == "Fn::Sub":
                template, variables = (argument[0], walk(argument[1])) if isinstance(argument, list) else (argument, {})

                def substitute(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if name in variables:
                        return str(variables[name])
                    if name in pseudo:
                        return str(pseudo[name])
                    logical, _, attribute = name.partition(".")
                    return str(lookup(logical, attribute or None))

                return _SUB.sub(substitute, str(template))
            if key.startswith("Fn::") or key == "Condition":
                raise CfnError(f"{key} is not evaluated by the local stack")
        return {key: walk(item) for key, item in value.items()}

    return walk(node)


def execute_api_pattern(api_id: str) -> re.Pattern[str]:
    return re.compile(rf"^(https|wss)://{re.escape(api_id)}\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?=/|$)")


def localize(value: Any, *, api_id: str, ws_origin: str) -> Any:
    """``https://{api}.execute-api.{region}.amazonaws.com/{stage}`` → ``http://127.0.0.1:{port}/{stage}``
    (and ``wss://`` → ``ws://``): the local gateway answers for the WebSocket API's host."""
    pattern = execute_api_pattern(api_id)
    host = ws_origin.split("://", 1)[1]
    if isinstance(value, str):
        return pattern.sub(lambda m: f"{'ws' if m.group(1) == 'wss' else 'http'}://{host}", value)
    if isinstance(value, dict):
        return {key: localize(item, api_id=api_id, ws_origin=ws_origin) for key, item in value.items()}
    if isinstance(value, list):
        return [localize(item, api_id=api_id, ws_origin=ws_origin) for item in value]
    return value
