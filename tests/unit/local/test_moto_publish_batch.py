"""The local stack's PublishBatch fast path (infra/local/moto_publish_batch.py) answers and delivers
exactly as moto does: the same requests to moto as shipped and to the stack's moto, compared."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from botocore.exceptions import ClientError

from infra.local.moto_publish_batch import entries_parse, publish_batch_answer
from infra.local.moto_server import MotoServer
from infra.local.resources import aws_client


def _client(service: str, endpoint: str) -> Any:
    return aws_client(service, endpoint=endpoint, region="us-east-1")  # as the stack makes its clients


@pytest.fixture(scope="module")
def stack_moto() -> Iterator[str]:
    server = MotoServer(services=("sns", "sqs"))
    server.launch()
    try:
        yield server.wait()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def plain_moto() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # bounded: moto starts in a few seconds
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()  # the process this fixture started, by its handle
        process.wait(timeout=10)


def _entry(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "Id": f"e{n}",
        "Message": json.dumps({"type": "job.running", "seq": n, "note": "a & b <c> é %20"}),
        "MessageAttributes": {
            "type": {"DataType": "String", "StringValue": "job.running"},
            "owner": {"DataType": "String", "StringValue": str(n)},
            "size": {"DataType": "Number", "StringValue": "12.5"},
        },
        **extra,
    }


# Each case: PublishBatch arguments (the topic's ARN is filled in; "missing" names another topic).
CASES: dict[str, list[dict[str, Any]]] = {
    "ten plain entries": [_entry(n) for n in range(10)],
    "no attributes": [{"Id": "a", "Message": "plain text"}, {"Id": "b", "Message": "{}"}],
    "one too long": [{"Id": "long", "Message": "x" * 262_145}, _entry(1)],
    "with a subject": [_entry(1, Subject="hello")],
    "repeated ids": [_entry(1), _entry(1)],
    "eleven entries": [_entry(n) for n in range(11)],
    "a bad attribute type": [{**_entry(1), "MessageAttributes": {"a": {"DataType": "Text", "StringValue": "x"}}}],
    "a number that is not one": [{**_entry(1), "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "x"}}}],
    "an empty attribute": [{**_entry(1), "MessageAttributes": {"a": {"DataType": "String", "StringValue": ""}}}],
}


def _outcome(endpoint: str, entries: list[dict[str, Any]], *, topic_exists: bool = True) -> dict[str, Any]:
    """What a client sees (MessageIds and request ids taken out) and what the subscribed queue got."""
    sns, sqs = _client("sns", endpoint), _client("sqs", endpoint)
    name = f"t-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    try:
        answer = sns.publish_batch(
            TopicArn=topic if topic_exists else topic + "-missing", PublishBatchRequestEntries=entries
        )
        seen: dict[str, Any] = {
            "successful": [entry["Id"] for entry in answer["Successful"]],
            "message_ids_are_uuids": all(uuid.UUID(entry["MessageId"]) for entry in answer["Successful"]),
            "failed": answer["Failed"],
        }
    except ClientError as error:
        seen = {"error": error.response["Error"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}
    delivered = []
    for _ in range(5):  # bounded: at most eleven messages
        batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        for message in batch:
            body = json.loads(message["Body"])
            delivered.append(
                {key: body.get(key) for key in ("Type", "TopicArn", "Subject", "Message", "MessageAttributes")}
            )
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    seen["delivered"] = sorted(delivered, key=json.dumps)
    seen["topic"] = topic.rsplit(":", 1)[1]
    return seen


@pytest.mark.parametrize("case", list(CASES))
def test_the_stack_answers_and_delivers_as_moto_does(case: str, plain_moto: str, stack_moto: str) -> None:
    plain = _outcome(plain_moto, CASES[case])
    stacked = _outcome(stack_moto, CASES[case])

    for seen in (plain, stacked):
        seen["delivered"] = [{**d, "TopicArn": d["TopicArn"].replace(seen["topic"], "T")} for d in seen["delivered"]]
        del seen["topic"]
    assert stacked == plain


def test_an_unknown_topic_is_refused_as_moto_does(plain_moto: str, stack_moto: str) -> None:
    plain = _outcome(plain_moto, CASES["ten plain entries"], topic_exists=False)
    stacked = _outcome(stack_moto, CASES["ten plain entries"], topic_exists=False)

    assert stacked == {**plain, "topic": stacked["topic"]}
    assert stacked["error"]["Code"] == "NotFound"


# --- which requests the fast path takes (in this process, on moto's in-memory backend) ----------


class _Captured(Exception):
    pass


def _environ(entries: list[dict[str, Any]], topic: str) -> dict[str, Any]:
    """The WSGI environ of the request botocore sends for this PublishBatch."""
    sns = _client("sns", "http://127.0.0.1:9")  # never reached: the request is captured before sending
    captured: dict[str, Any] = {}

    def capture(request: Any, **kwargs: Any) -> None:
        captured.update(headers=dict(request.headers), body=request.body)
        raise _Captured

    sns.meta.events.register("before-send.sns.PublishBatch", capture)
    with pytest.raises(_Captured):
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    body = captured["body"] if isinstance(captured["body"], bytes) else captured["body"].encode()
    headers = {key: value.decode() if isinstance(value, bytes) else value for key, value in captured["headers"].items()}
    return {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": headers["Content-Type"],
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": headers["Authorization"],
        "HTTP_HOST": "127.0.0.1:9",
        "HTTP_USER_AGENT": headers.get("User-Agent", ""),
        "wsgi.input": io.BytesIO(body),
    }


@pytest.fixture
def backend_topic() -> Iterator[Any]:
    from moto.sns.models import sns_backends

    backend = sns_backends["123456789012"]["us-east-1"]
    topic = backend.create_topic(f"fast-{uuid.uuid4().hex[:8]}")
    try:
        yield topic
    finally:
        backend.delete_topic(topic.arn)


def test_a_plain_batch_is_answered_by_the_fast_path(backend_topic: Any) -> None:
    answer = publish_batch_answer(_environ(CASES["ten plain entries"], backend_topic.arn))

    assert answer is not None
    status, headers, body = answer
    assert status == "200 OK"
    assert ("Content-Length", str(len(body))) in headers
    assert body.count(b"<MessageId>") == 10
    assert len(backend_topic.sent_notifications) == 10


@pytest.mark.parametrize("case", ["with a subject", "repeated ids", "eleven entries", "a bad attribute type"])
def test_what_moto_must_decide_is_left_to_it_untouched(case: str, backend_topic: Any) -> None:
    environ = _environ(CASES[case], backend_topic.arn)
    body = environ["wsgi.input"].getvalue()

    assert publish_batch_answer(environ) is None
    assert environ["wsgi.input"].read() == body  # moto still reads the whole request
    assert backend_topic.sent_notifications == []


def test_an_unknown_topic_is_left_to_moto(backend_topic: Any) -> None:
    assert publish_batch_answer(_environ(CASES["no attributes"], backend_topic.arn + "-missing")) is None


def test_entries_are_read_as_moto_reads_them() -> None:
    environ = _environ([_entry(1), {"Id": "b", "Message": "m"}], "arn:aws:sns:us-east-1:123456789012:t")
    params = parse_qsl(environ["wsgi.input"].getvalue().decode(), keep_blank_values=True)

    parsed = entries_parse(params)

    assert parsed is not None
    topic, entries = parsed
    assert topic == "arn:aws:sns:us-east-1:123456789012:t"
    assert entries == [
        {"Id": "e1", "Message": _entry(1)["Message"], "MessageAttributes": _entry(1)["MessageAttributes"]},
        {"Id": "b", "Message": "m"},
    ]
    assert entries_parse([*params, ("PublishBatchRequestEntries.member.3.Id", "gap")]) is None
    assert entries_parse([*params, ("Unknown", "x")]) is None
