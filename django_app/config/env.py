"""The one place settings read their inputs: the environment first, then SSM Parameter Store.

On Lambda, ``SSM_PARAMETER_PREFIX`` (e.g. ``/polyglot/dev``) names a parameter path. The whole
path is read with one ``GetParametersByPath`` call the first time a value is missing from the
environment, and kept for the life of the container, so a warm invocation never calls SSM.
Parameter ``/polyglot/dev/jobs-queue-url`` answers ``env.str("JOBS_QUEUE_URL")``.

A setting may name another path's variable (``ssm_prefix="SSM_ISSUER_PARAMETER_PREFIX"``): the
token-signing keys live under their own path (``/polyglot-issuer/<stage>``) because IAM authorises
``GetParametersByPath`` on the path asked for, recursively, never on the parameters it returns, so a
key under ``/polyglot/<stage>`` would be readable by every function that reads that path.
"""

from __future__ import annotations

import math
import os
from functools import cache

_MISSING = object()


class ConfigError(RuntimeError):
    """A required setting is absent or malformed."""


def _parameter_name(setting_name: str) -> str:
    return setting_name.lower().replace("_", "-")


@cache
def _ssm_parameters(prefix: str) -> dict[str, str]:
    import boto3  # only containers that use SSM pay for importing boto3

    client = boto3.client("ssm")
    values: dict[str, str] = {}
    paginator = client.get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=prefix, Recursive=False, WithDecryption=True):
        for parameter in page["Parameters"]:
            values[parameter["Name"].rsplit("/", 1)[-1]] = parameter["Value"]
    return values


def _lookup(name: str, ssm: bool = False, ssm_prefix: str = "SSM_PARAMETER_PREFIX") -> str | None:
    if name in os.environ:
        return os.environ[name]
    prefix = os.environ.get(ssm_prefix, "").rstrip("/")
    if ssm and prefix:
        return _ssm_parameters(prefix).get(_parameter_name(name))
    return None


def str_(
    name: str, default: str | object = _MISSING, *, ssm: bool = False, ssm_prefix: str = "SSM_PARAMETER_PREFIX"
) -> str:
    value = _lookup(name, ssm, ssm_prefix)
    if value is None:
        if default is _MISSING:
            raise ConfigError(f"{name} is required: set it in the environment or in SSM")
        return str(default)
    return value


def bool_(name: str, default: bool) -> bool:
    value = _lookup(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be a boolean, got {value!r}")


def int_(name: str, default: int) -> int:
    value = _lookup(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None


def float_(name: str, default: float) -> float:
    value = _lookup(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return number


def choice_(name: str, default: str, *, choices: tuple[str, ...]) -> str:
    value = _lookup(name)
    if value is None:
        return default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def list_(name: str, default: list[str] | None = None) -> list[str]:
    value = _lookup(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]
