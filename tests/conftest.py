"""Session-wide test set-up: fake AWS credentials, moto on 127.0.0.1, users and tokens."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import setting_changed
from django.dispatch import receiver

from tests import ast_depth_bug
from tests.aws import aws_client, fake_aws_environment, moto_server, new_queue

# Session fixtures: what `osls package` and `make package` build, built once for every reader.
from tests.operator_builds import osls_package, zappa_dev_artifact  # noqa: F401

IN_CI = os.environ.get("CI") == "true"


if sys.version_info < (3, 12):
    ast_depth_bug.tolerate()


@pytest.fixture(scope="session", autouse=True)
def aws_endpoint() -> Iterator[str]:
    """Every boto3 client in the tests talks to moto; nothing can reach real AWS."""
    with moto_server() as endpoint:
        saved = {key: os.environ.get(key) for key in fake_aws_environment(endpoint)}
        os.environ.update(fake_aws_environment(endpoint))
        from django_app.jobs.aws import client

        client.cache_clear()
        yield endpoint
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Any]:
    """The whole local stack (``make run``), one per session on random free ports, shared by the
    integration and browser tests: ``http_url``, ``ws_url``, ``management_url``, ``aws_endpoint``,
    ``demo_username``/``demo_password``, ``create_token()``, ``create_user()``, ``logs()``. SQLite
    under a temporary folder unless LOCAL_STACK_DATABASE_URL (else DATABASE_URL) names another."""
    from infra.local.stack import LocalStack

    database_url = os.environ.get("LOCAL_STACK_DATABASE_URL") or os.environ.get("DATABASE_URL")
    with LocalStack(database_url=database_url) as stack:
        yield stack


# base.py derives JOBS_QUEUES (what django_app.jobs.queue reads) from these two URLs once; a test
# that overrides a URL gets the mapping derived again, as base.py would have.
_QUEUE_OF_URL_SETTING = {"JOBS_QUEUE_URL": "default", "JOBS_LONG_QUEUE_URL": "long"}


@receiver(setting_changed)
def _jobs_queues_follow_their_urls(*, setting: str, **kwargs: Any) -> None:
    from django.conf import settings

    name = _QUEUE_OF_URL_SETTING.get(setting)
    queues = getattr(settings, "JOBS_QUEUES", None)
    if name is not None and queues and name in queues:
        settings.JOBS_QUEUES = {**queues, name: {**queues[name], "url": getattr(settings, setting, "")}}


@pytest.fixture
def jobs_queue(settings: Any) -> str:
    """A fresh, empty jobs queue that Django sends to."""
    settings.JOBS_QUEUE_URL = new_queue("jobs")
    return settings.JOBS_QUEUE_URL


@pytest.fixture
def jobs_long_queue(settings: Any) -> str:
    """A fresh, empty queue of long tasks (JOBS_QUEUES["long"]) that Django sends to."""
    settings.JOBS_LONG_QUEUE_URL = new_queue("jobs-long")
    return settings.JOBS_LONG_QUEUE_URL


@pytest.fixture
def events_topic(settings: Any) -> tuple[str, str]:
    """A fresh job-events topic with a queue subscribed raw, so tests can read what was published."""
    sns, sqs = aws_client("sns"), aws_client("sqs")
    topic_arn = sns.create_topic(Name=f"job-events-{os.urandom(6).hex()}")["TopicArn"]
    queue_url = new_queue("events")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    settings.JOB_EVENTS_TOPIC_ARN = topic_arn
    return topic_arn, queue_url


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="alice", password="alice-password-1")


@pytest.fixture
def other_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="bob", password="bob-password-1")


@pytest.fixture
def token(user: Any) -> str:
    from django_app.accounts.tokens import api_token_create

    return api_token_create(user=user, name="tests")[1]


@pytest.fixture
def api(token: str) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Any test that uses the database also runs in the PostgreSQL pass (`make test-postgres`).
    for item in items:
        uses_db = {"db", "transactional_db"} & set(getattr(item, "fixturenames", ()))
        if uses_db and item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db)
