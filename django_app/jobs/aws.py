"""boto3 clients, made once per container. Endpoints come from configuration (AWS_ENDPOINT_URL)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.config import Config

if TYPE_CHECKING:
    from django_app.jobs.sns_publisher import SnsPublisher

# Fail fast and let the sweep retry, rather than hold an API request for botocore's defaults.
_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service, config=_CLIENT_CONFIG)


@cache
def sns_publisher() -> SnsPublisher:
    """PublishBatch for job events (see sns_publisher.py), with the SNS client's endpoint, region
    and credentials."""
    import boto3

    from django_app.jobs.sns_publisher import SnsPublisher  # imported by the first publish only

    sns = client("sns")
    return SnsPublisher(
        endpoint_url=sns.meta.endpoint_url,
        region=sns.meta.region_name,
        credentials=boto3.session.Session().get_credentials(),  # the chain the client resolved
        connect_timeout=_CLIENT_CONFIG.connect_timeout,
        read_timeout=_CLIENT_CONFIG.read_timeout,
    )
