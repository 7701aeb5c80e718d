"""Job events to SNS without boto3 (django_app/jobs/sns_publisher.py): the request boto3 would send,
AWS's answers as domain values, against moto's SNS."""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from contracts.job_event import JobEvent
from django_app.jobs import sns_publisher as sns_publisher_module
from django_app.jobs.aws import sns_publisher
from django_app.jobs.sns_publisher import (
    PUBLISH_ATTEMPTS,
    BatchAnswer,
    BatchEntry,
    PublishFailed,
    SnsPublisher,
    publish_batch_body,
    response_parse,
)
from tests.aws import REGION, aws_client, drain, new_queue

ENTRIES: list[BatchEntry] = [
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


def _event(*, note: str = "", result: Any = None) -> JobEvent:
    return JobEvent(
        type="job.succeeded" if result is not None else "job.running",
        job_id=uuid.uuid4(),
        owner="7",
        seq=2,
        task="word_count",
        status="succeeded" if result is not None else "running",
        progress=0,
        note=note,
        result=result,
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


class _Sent(Exception):
    pass


@pytest.fixture(autouse=True)
def _no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sns_publisher_module.time, "sleep", lambda seconds: None)


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


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[SnsPublisher, list[int]]:
    """The container's publisher, with its PublishBatch calls counted (one item per call)."""
    publisher = sns_publisher()
    calls: list[int] = []
    send = publisher.send_batch

    def counting(*, topic_arn: str, entries: Sequence[BatchEntry]) -> BatchAnswer:
        calls.append(len(entries))
        return send(topic_arn=topic_arn, entries=entries)

    monkeypatch.setattr(publisher, "send_batch", counting)
    return publisher, calls


def test_events_are_delivered_with_their_attributes_and_all_taken() -> None:
    topic, queue = _subscribed_topic()
    events = [_event(note="a b & c=d + é ✓ 100%"), _event()]

    assert sns_publisher().publish_events(topic_arn=topic, events=events) == []

    delivered = drain(queue)
    assert sorted(m["Body"] for m in delivered) == sorted(e.model_dump_json() for e in events)
    first = next(m for m in delivered if m["Body"] == events[0].model_dump_json())
    assert {name: value["StringValue"] for name, value in first["MessageAttributes"].items()} == {
        "type": "job.running",
        "owner": "7",
    }


def test_the_answer_names_each_entry_taken_or_failed_as_boto3_reads_it() -> None:
    topic, _ = _subscribed_topic()
    too_long: list[BatchEntry] = [{"Id": "big", "Message": "x" * 262_145}, ENTRIES[1]]

    ours = sns_publisher().send_batch(topic_arn=topic, entries=too_long)
    theirs = aws_client("sns").publish_batch(TopicArn=topic, PublishBatchRequestEntries=too_long)

    assert ours.taken == frozenset(entry["Id"] for entry in theirs["Successful"]) == {"1"}
    [failed] = theirs["Failed"]
    assert ours.failed["big"].code == failed["Code"]
    assert ours.failed["big"].sender_fault is failed["SenderFault"] is True


def test_an_event_sns_refuses_as_the_senders_fault_is_returned_without_a_retry(
    counted: tuple[SnsPublisher, list[int]],
) -> None:
    topic, queue = _subscribed_topic()
    big, small = _event(result={"blob": "x" * 262_145}), _event()
    publisher, calls = counted

    assert publisher.publish_events(topic_arn=topic, events=[big, small]) == [big]
    assert calls == [2]
    assert [m["Body"] for m in drain(queue)] == [small.model_dump_json()]


def test_an_error_answer_is_publish_failed_with_its_code_and_status() -> None:
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    with pytest.raises(PublishFailed) as ours:
        sns_publisher().send_batch(topic_arn=missing, entries=ENTRIES)
    with pytest.raises(ClientError) as theirs:
        aws_client("sns").publish_batch(TopicArn=missing, PublishBatchRequestEntries=ENTRIES)

    assert ours.value.code == theirs.value.response["Error"]["Code"] == "NotFound"
    assert ours.value.status == 404


def test_events_of_a_call_that_keeps_failing_are_returned_after_the_last_attempt(
    counted: tuple[SnsPublisher, list[int]],
) -> None:
    publisher, calls = counted
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    events = [_event(), _event()]

    assert publisher.publish_events(topic_arn=missing, events=events) == events
    assert calls == [2] * PUBLISH_ATTEMPTS


def test_an_answer_that_is_not_sns_xml_is_publish_failed_with_its_status() -> None:
    with pytest.raises(PublishFailed) as raised:
        response_parse(502, b"<html><body>Bad Gateway</body></html>")

    assert (raised.value.code, raised.value.status) == ("502", 502)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_that_does_not_answer_takes_nothing() -> None:
    credentials = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s").get_credentials()
    publisher = SnsPublisher(
        endpoint_url=f"http://127.0.0.1:{_closed_port()}",
        region=REGION,
        credentials=credentials,
        connect_timeout=1,
        read_timeout=1,
    )
    events = [_event()]

    with pytest.raises(PublishFailed) as raised:
        publisher.send_batch(topic_arn="arn:aws:sns:us-east-1:123456789012:t", entries=ENTRIES)
    assert raised.value.status is None
    assert publisher.publish_events(topic_arn="arn:aws:sns:us-east-1:123456789012:t", events=events) == events


def test_without_credentials_nothing_is_sent() -> None:
    publisher = SnsPublisher(
        endpoint_url="http://127.0.0.1:9", region=REGION, credentials=None, connect_timeout=1, read_timeout=1
    )

    with pytest.raises(PublishFailed) as raised:
        publisher.send_batch(topic_arn="arn:aws:sns:us-east-1:123456789012:t", entries=ENTRIES)
    assert raised.value.code == "NoCredentials"
