"""Objects made once per container and reused by every invocation: the store, the API clients.

Built on first use, not at import: a cold ``$connect`` builds only what it needs.
"""

from __future__ import annotations

from functools import cache

from functions.websocket import config
from functions.websocket.aws_json import AwsJsonClient
from functions.websocket.connections import ConnectionStore
from functions.websocket.management import ManagementApi, endpoint_for
from functions.websocket.tickets import JwksKeys, Trust


@cache
def store() -> ConnectionStore:
    return ConnectionStore(table=config.settings().connections_table, client=AwsJsonClient.for_service("dynamodb"))


@cache
def trust() -> Trust:
    """Django's issuer and public keys, parsed once per container (re-read only for a kid not seen yet)."""
    return Trust(issuer=config.settings().issuer, keys=JwksKeys(config.auth_jwks))


@cache
def _management(endpoint: str) -> ManagementApi:
    return ManagementApi(endpoint, max_idle=config.settings().push_concurrency)


def management(*, domain: str = "", stage: str = "") -> ManagementApi:
    """The configured management endpoint, else the one of the API the event came through."""
    endpoint = config.settings().management_endpoint or endpoint_for(domain=domain, stage=stage)
    return _management(endpoint)


def reset() -> None:
    """Forget every cached object and setting (tests change the environment between cases)."""
    for cached in (store, trust, _management):
        cached.cache_clear()
    config.reset()
