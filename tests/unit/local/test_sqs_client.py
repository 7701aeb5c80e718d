"""The pollers' stdlib SQS client answers as botocore does, against the stack's moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.moto_server import MotoServer
from infra.local.resources import aws_client
from infra.local.sqs_client import SqsClient, SqsError

ATTRIBUTES = {
    "correlation_id": {"DataType": "String", "StringValue": "c-1"},
    "count": {"DataType": "Number", "StringValue": "3"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffbytes"},
}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = MotoServer(services=("sqs",))
    server.launch()
    try:
        yield server.wait()
    finally:
        server.stop()


def _without_receipt(message: dict[str, Any]) -> dict[str, Any]:
    # Each receive hands out a new receipt handle and counts the receive.
    attributes = {k: v for k, v in message["Attributes"].items() if "Receive" not in k}
    return {**message, "ReceiptHandle": "-", "Attributes": attributes}


def test_a_receive_answers_what_botocore_parses(endpoint: str) -> None:
    boto = aws_client("sqs", endpoint=endpoint, region="us-east-1")
    url = boto.create_queue(QueueName="same")["QueueUrl"]
    boto.send_message(QueueUrl=url, MessageBody='{"job": 1}', MessageAttributes=ATTRIBUTES)
    ours = SqsClient(endpoint, region="us-east-1", timeout=10)

    [mine] = ours.receive_message(queue_url=url, max_messages=10, wait_seconds=0, visibility_timeout=0)
    [theirs] = boto.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]

    assert _without_receipt(mine) == _without_receipt(theirs)
    assert mine["MessageAttributes"]["blob"]["BinaryValue"] == b"\x00\xffbytes"
    ours.close()


def test_deletes_and_an_empty_long_poll_on_one_kept_connection(endpoint: str) -> None:
    boto = aws_client("sqs", endpoint=endpoint, region="us-east-1")
    url = boto.create_queue(QueueName="kept")["QueueUrl"]
    for n in range(3):
        boto.send_message(QueueUrl=url, MessageBody=str(n))
    ours = SqsClient(endpoint, region="us-east-1", timeout=10)

    received = ours.receive_message(queue_url=url, max_messages=10, wait_seconds=1)
    connection = ours._connection
    answer = ours.delete_message_batch(
        queue_url=url, entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)]
    )
    empty = ours.receive_message(queue_url=url, max_messages=10, wait_seconds=1)

    assert sorted(m["Body"] for m in received) == ["0", "1", "2"]
    assert sorted(entry["Id"] for entry in answer["Successful"]) == ["0", "1", "2"]
    assert empty == []
    assert ours._connection is connection is not None  # moto keeps it alive (moto_speedups 10.)
    ours.close()


def test_a_connection_the_server_closed_is_replaced(endpoint: str) -> None:
    boto = aws_client("sqs", endpoint=endpoint, region="us-east-1")
    url = boto.create_queue(QueueName="closed")["QueueUrl"]
    ours = SqsClient(endpoint, region="us-east-1", timeout=10)
    ours.receive_message(queue_url=url, max_messages=1, wait_seconds=0)
    assert ours._connection is not None
    assert ours._connection.sock is not None
    ours._connection.sock.close()  # as if the server had dropped it

    assert ours.receive_message(queue_url=url, max_messages=1, wait_seconds=0) == []
    ours.close()


def test_an_error_names_its_code(endpoint: str) -> None:
    ours = SqsClient(endpoint, region="us-east-1", timeout=10)

    with pytest.raises(SqsError) as raised:
        ours.receive_message(queue_url=f"{endpoint}/123456789012/missing", max_messages=1, wait_seconds=0)

    ours.close()
    assert raised.value.status == 400
    assert raised.value.code == "QueueDoesNotExist"  # what botocore reports as the error code
