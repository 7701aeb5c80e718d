"""The websocket package's settings, read once per container from the environment, then SSM.

As in Django's ``config/env.py``, a name missing from the environment is looked up under
``SSM_PARAMETER_PREFIX`` (``AUTH_JWKS`` → ``<prefix>/auth-jwks``), but only the names in
``SSM_NAMES``, by name, with one ``GetParameters`` call the first time: IAM lets these functions
read exactly those parameters, never the path, where Django's secrets live. Only the JWKS is read
again later (``auth_jwks(fresh=True)``: a ticket signed with a key this container has not seen yet,
after a rotation).

This function holds no secret of Django's: ``AUTH_JWKS`` is Django's public keys (RFC 7517).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from functions.websocket.aws_endpoints import region
from functions.websocket.aws_json import AwsJsonClient

# API Gateway closes every WebSocket after 2 hours; rows live a little longer so a connection is
# never forgotten while it can still receive, and DynamoDB's TTL sweeps whatever $disconnect missed.
CONNECTION_MAX_SECONDS = 2 * 60 * 60
CONNECTION_TTL_SLACK_SECONDS = 10 * 60


class ConfigError(RuntimeError):
    """A required setting is absent."""


@dataclass(frozen=True)
class Settings:
    connections_table: str
    issuer: str  # Django's public base URL: the ``iss`` of every ticket
    region: str
    management_endpoint: str | None  # None: derived from each event's domain and stage
    api_base_url: str  # where result links point (``<api_base_url>/api/jobs/<id>/``)
    push_concurrency: int


def _parameter_name(name: str) -> str:
    return name.lower().replace("_", "-")


# The only parameters these functions read from SSM (serverless.yml grants ssm:GetParameters on
# exactly these); everything else comes from the function's environment.
SSM_NAMES = ("API_BASE_URL", "AUTH_JWKS")


@cache
def _ssm_parameters(prefix: str) -> dict[str, str]:
    names = [f"{prefix}/{_parameter_name(name)}" for name in SSM_NAMES]
    answer = AwsJsonClient.for_service("ssm").call("AmazonSSM.GetParameters", {"Names": names})
    return {str(item["Name"]).rsplit("/", 1)[-1]: str(item["Value"]) for item in answer.get("Parameters", [])}


def lookup(name: str) -> str | None:
    if name in os.environ:
        return os.environ[name]
    prefix = os.environ.get("SSM_PARAMETER_PREFIX", "").rstrip("/")
    if prefix and name in SSM_NAMES:
        return _ssm_parameters(prefix).get(_parameter_name(name))
    return None


def _required(name: str) -> str:
    value = lookup(name)
    if not value:
        raise ConfigError(f"{name} is required: set it in the environment or in SSM")
    return value


def auth_jwks(fresh: bool = False) -> str:
    """Django's JWKS document (JSON); ``fresh`` reads SSM again instead of this container's copy."""
    if fresh and "AUTH_JWKS" not in os.environ:
        _ssm_parameters.cache_clear()
    return _required("AUTH_JWKS")


@cache
def settings() -> Settings:
    api_base_url = (lookup("API_BASE_URL") or "").rstrip("/")
    return Settings(
        connections_table=_required("CONNECTIONS_TABLE"),
        issuer=(lookup("AUTH_ISSUER") or api_base_url).rstrip("/"),
        region=region(),
        management_endpoint=lookup("MANAGEMENT_API_ENDPOINT") or None,
        api_base_url=api_base_url,
        push_concurrency=int(lookup("PUSH_CONCURRENCY") or 32),
    )


def reset() -> None:
    """Forget everything read (tests change the environment between cases)."""
    settings.cache_clear()
    _ssm_parameters.cache_clear()
