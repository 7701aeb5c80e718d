"""boto3 clients, made once per container. Endpoints come from configuration (AWS_ENDPOINT_URL)."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

# Fail fast and let the sweep retry, rather than hold an API request for botocore's defaults.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service, config=_CLIENT_CONFIG)
