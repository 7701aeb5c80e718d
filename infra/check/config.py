"""Reading the two deploy configs as the CLIs would, without the CLIs: serverless.yml (with its
CloudFormation tags and the few ``${...}`` variable sources it uses) and zappa_settings.json
(with ``extends``), for one stage at a time.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SERVERLESS = REPO / "serverless.yml"
ZAPPA = REPO / "zappa_settings.json"

# ${source:address} or ${source:address, 'fallback'}; CloudFormation's own ${AWS::Region} and
# ${Resource} (inside !Sub) have no such source and are left alone, as osls leaves them.
_VARIABLE = re.compile(r"\$\{(sls|self|param|opt|aws):([^,}]+)(?:,\s*'([^']*)')?\}")


class ConfigError(Exception):
    """A config file cannot be read at all."""


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags, turned into their long forms."""


def _tag(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _short, _long in {
    "!Ref": "Ref",
    "!GetAtt": "Fn::GetAtt",
    "!Sub": "Fn::Sub",
    "!Join": "Fn::Join",
    "!If": "Fn::If",
    "!Equals": "Fn::Equals",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!ImportValue": "Fn::ImportValue",
    "!FindInMap": "Fn::FindInMap",
    "!GetAZs": "Fn::GetAZs",
    "!Not": "Fn::Not",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!Base64": "Fn::Base64",
    "!Condition": "Condition",
}.items():
    _CfnLoader.add_constructor(_short, _tag(_long))


def load_serverless(path: Path = SERVERLESS) -> dict[str, Any]:
    try:
        loaded = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader plus CFN tags
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path.name}: {error}") from error
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path.name}: not a mapping")
    return loaded


def load_zappa(path: Path = ZAPPA) -> dict[str, dict[str, Any]]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path.name}: {error}") from error
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path.name}: not an object")
    return loaded


def zappa_stage(settings: dict[str, dict[str, Any]], stage: str) -> dict[str, Any]:
    """A stage with ``extends`` applied, as zappa's cli does: the child's keys win, whole values."""
    merged: dict[str, Any] = {}
    chain = []
    current: str | None = stage
    for _ in range(10):  # bounded: extends chains are short
        if current is None:
            break
        if current not in settings:
            raise ConfigError(f"zappa_settings.json: stage {current!r} (extended by {stage!r}) does not exist")
        chain.append(settings[current])
        current = settings[current].get("extends")
    for layer in reversed(chain):
        merged.update(copy.deepcopy(layer))
    merged.pop("extends", None)
    return merged


@dataclass(frozen=True)
class Serverless:
    """serverless.yml with its variables resolved for one stage."""

    raw: dict[str, Any]
    stage: str
    region: str

    @property
    def functions(self) -> dict[str, dict[str, Any]]:
        return dict(self.raw.get("functions") or {})

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict((self.raw.get("resources") or {}).get("Resources") or {})

    @property
    def provider(self) -> dict[str, Any]:
        return dict(self.raw.get("provider") or {})


def default_stage_and_region(raw: dict[str, Any]) -> tuple[str, str]:
    provider = raw.get("provider") or {}
    return _fallback(str(provider.get("stage", "dev"))), _fallback(str(provider.get("region", "us-east-1")))


def _fallback(value: str) -> str:
    """``${opt:region, 'us-east-1'}`` → ``us-east-1``; a literal stays as it is."""
    match = _VARIABLE.fullmatch(value)
    if match and match.group(3) is not None:
        return match.group(3)
    return value


def declared_stages(raw: dict[str, Any]) -> set[str]:
    return {name for name in (raw.get("params") or {}) if name != "default"}


def resolve_serverless(raw: dict[str, Any], *, stage: str) -> Serverless:
    _, region = default_stage_and_region(raw)
    params = {**((raw.get("params") or {}).get("default") or {}), **((raw.get("params") or {}).get(stage) or {})}

    def lookup(source: str, address: str, fallback: str | None, depth: int) -> Any:
        address = address.strip()
        if source == "sls" and address == "stage":
            return stage
        if source == "opt":
            return {"stage": stage, "region": region}.get(address, fallback)
        if source == "aws" and address == "region":
            return region
        if source == "param":
            return params.get(address, fallback)
        if source == "self":
            node: Any = raw
            for part in address.split("."):
                if not isinstance(node, dict) or part not in node:
                    return fallback
                node = node[part]
            return resolve(node, depth + 1)
        return fallback

    def resolve(node: Any, depth: int = 0) -> Any:
        if depth > 20:
            raise ConfigError("serverless.yml: variables nest too deep (a cycle?)")
        if isinstance(node, dict):
            return {key: resolve(value, depth) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value, depth) for value in node]
        if not isinstance(node, str):
            return node
        whole = _VARIABLE.fullmatch(node)
        if whole:  # a whole-value variable keeps its type (numbers, mappings)
            value = lookup(whole.group(1), whole.group(2), whole.group(3), depth)
            if value is None:
                raise ConfigError(f"serverless.yml: {node} does not resolve for stage {stage!r}")
            return resolve(value, depth + 1)

        def substitute(match: re.Match[str]) -> str:
            value = lookup(match.group(1), match.group(2), match.group(3), depth)
            if value is None:
                raise ConfigError(f"serverless.yml: {match.group(0)} does not resolve for stage {stage!r}")
            return str(resolve(value, depth + 1))

        return _VARIABLE.sub(substitute, node)

    resolved = resolve({key: value for key, value in raw.items() if key != "params"})
    return Serverless(raw=resolved, stage=stage, region=region)
