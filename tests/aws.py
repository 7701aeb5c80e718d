"""moto in server mode on 127.0.0.1, shared by the whole test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@contextmanager
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def fake_aws_environment(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


def aws_client(service: str) -> Any:
    return boto3.session.Session().client(service, region_name=REGION, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def new_queue(prefix: str = "jobs") -> str:
    return str(aws_client("sqs").create_queue(QueueName=f"{prefix}-{uuid.uuid4().hex[:12]}")["QueueUrl"])


def drain(queue_url: str, *, wait_seconds: int = 0) -> list[dict[str, Any]]:
    """Every message currently on the queue (received, not deleted)."""
    sqs = aws_client("sqs")
    messages: list[dict[str, Any]] = []
    for _ in range(100):  # bounded: at most 1,000 messages
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=30,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    return messages
