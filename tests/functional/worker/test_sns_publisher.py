"""The job events' PublishBatch without boto3 (django_app/jobs/sns_publisher.py): the request boto3
would send, the answers boto3 would give, against moto's SNS."""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from django_app.jobs.aws import sns_publisher
from django_app.jobs.sns_publisher import SnsPublisher, publish_batch_body, response_parse
from tests.aws import REGION, aws_client, drain, new_queue

ENTRIES = [
    {
        "Id": "0",
        "Message": json.dumps({"type": "job.running", "note": "a b & c=d + é ✓ 100%"}, ensure_ascii=False),
        "MessageAttributes": {
            "type": {"DataType": "String", "StringValue": "job.running"},
            "owner": {"DataType": "String", "StringValue": "7"},
        },
    },
    {"Id": "1", "Message": "plain ~text_with.safe-chars/and?others"},
]


class _Sent(Exception):
    pass


def test_the_body_is_byte_for_byte_what_boto3_sends() -> None:
    sns = boto3.session.Session().client(
        "sns", region_name=REGION, endpoint_url="http://127.0.0.1:9", aws_access_key_id="k", aws_secret_access_key="s"
    )
    sent: list[bytes] = []

    def capture(request: Any, **_: Any) -> None:
        sent.append(request.body if isinstance(request.body, bytes) else request.body.encode())
        raise _Sent

    sns.meta.events.register("before-send.sns.PublishBatch", capture)
    with pytest.raises(_Sent):
        sns.publish_batch(TopicArn="arn:aws:sns:us-east-1:123456789012:t", PublishBatchRequestEntries=ENTRIES)

    assert publish_batch_body("arn:aws:sns:us-east-1:123456789012:t", ENTRIES) == sent[0]


def _subscribed_topic() -> tuple[str, str]:
    sns, sqs = aws_client("sns"), aws_client("sqs")
    topic = sns.create_topic(Name=f"publisher-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue = new_queue("publisher")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    return topic, queue


def test_a_batch_is_delivered_and_answered_as_boto3_answers() -> None:
    topic, queue = _subscribed_topic()

    ours = sns_publisher().publish_batch(TopicArn=topic, PublishBatchRequestEntries=ENTRIES)
    theirs = aws_client("sns").publish_batch(TopicArn=topic, PublishBatchRequestEntries=ENTRIES)

    assert sorted(entry["Id"] for entry in ours["Successful"]) == ["0", "1"]
    assert ours["Failed"] == theirs["Failed"] == []
    assert {key for entry in ours["Successful"] for key in entry} == {
        key for entry in theirs["Successful"] for key in entry
    }
    delivered = drain(queue)
    assert sorted(m["Body"] for m in delivered) == sorted(e["Message"] for e in ENTRIES * 2)
    first = next(m for m in delivered if m["Body"] == ENTRIES[0]["Message"])
    assert {name: value["StringValue"] for name, value in first["MessageAttributes"].items()} == {
        "type": "job.running",
        "owner": "7",
    }


def test_an_entry_sns_refuses_is_reported_failed_by_the_senders_fault() -> None:
    topic, _ = _subscribed_topic()
    too_long = [{"Id": "big", "Message": "x" * 262_145}, ENTRIES[1]]

    ours = sns_publisher().publish_batch(TopicArn=topic, PublishBatchRequestEntries=too_long)
    theirs = aws_client("sns").publish_batch(TopicArn=topic, PublishBatchRequestEntries=too_long)

    assert ours["Failed"] == theirs["Failed"]
    assert ours["Failed"][0]["SenderFault"] is True
    assert [entry["Id"] for entry in ours["Successful"]] == ["1"]


def test_an_error_answer_raises_the_client_error_boto3_raises() -> None:
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    with pytest.raises(ClientError) as ours:
        sns_publisher().publish_batch(TopicArn=missing, PublishBatchRequestEntries=ENTRIES)
    with pytest.raises(ClientError) as theirs:
        aws_client("sns").publish_batch(TopicArn=missing, PublishBatchRequestEntries=ENTRIES)

    assert ours.value.response["Error"]["Code"] == theirs.value.response["Error"]["Code"] == "NotFound"
    assert ours.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert ours.value.operation_name == "PublishBatch"


def test_an_answer_that_is_not_sns_xml_is_a_client_error_with_its_status() -> None:
    with pytest.raises(ClientError) as raised:
        response_parse(502, b"<html><body>Bad Gateway</body></html>")

    assert raised.value.response["Error"]["Code"] == "502"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_that_does_not_answer_raises_a_botocore_error() -> None:
    credentials = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s").get_credentials()
    publisher = SnsPublisher(
        endpoint_url=f"http://127.0.0.1:{_closed_port()}",
        region=REGION,
        credentials=credentials,
        connect_timeout=1,
        read_timeout=1,
    )

    with pytest.raises(BotoCoreError):
        publisher.publish_batch(TopicArn="arn:aws:sns:us-east-1:123456789012:t", PublishBatchRequestEntries=ENTRIES)


def test_without_credentials_nothing_is_sent() -> None:
    publisher = SnsPublisher(
        endpoint_url="http://127.0.0.1:9", region=REGION, credentials=None, connect_timeout=1, read_timeout=1
    )

    with pytest.raises(NoCredentialsError):
        publisher.publish_batch(TopicArn="arn:aws:sns:us-east-1:123456789012:t", PublishBatchRequestEntries=ENTRIES)
