"""Objects made once per container and reused by every invocation: the store, the API clients.

Built on first use, not at import: a cold ``$connect`` builds only what it needs.
"""

from __future__ import annotations

from functools import cache

from functions.websocket import config
from functions.websocket.aws_json import AwsJsonClient
from functions.websocket.connections import ConnectionStore
from functions.websocket.management import ManagementApi, endpoint_for
from functions.websocket.tickets import verification_keys


@cache
def store() -> ConnectionStore:
    return ConnectionStore(table=config.settings().connections_table, client=AwsJsonClient.for_service("dynamodb"))


@cache
def ticket_keys() -> dict[str, bytes]:
    return verification_keys(config.settings().ticket_keys)


@cache
def _management(endpoint: str) -> ManagementApi:
    return ManagementApi(endpoint, max_idle=config.settings().push_concurrency)


def management(*, domain: str = "", stage: str = "") -> ManagementApi:
    """The configured management endpoint, else the one of the API the event came through."""
    endpoint = config.settings().management_endpoint or endpoint_for(domain=domain, stage=stage)
    return _management(endpoint)


def reset() -> None:
    """Forget every cached object and setting (tests change the environment between cases)."""
    for cached in (store, ticket_keys, _management):
        cached.cache_clear()
    config.reset()
