"""The local stack's moto (with infra/local/moto_speedups.py) still answers as moto does: checked
against a real server process the way the stack starts it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.local.moto_server import REPO, MotoServer
from infra.local.resources import aws_client


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = MotoServer(services=("sqs", "dynamodb"))
    server.launch()
    try:
        yield server.wait()
    finally:
        server.stop()


def _client(service: str, endpoint: str) -> Any:
    return aws_client(service, endpoint=endpoint, region="us-east-1")  # as the stack makes its clients


def test_queue_counts_are_still_reported(endpoint: str) -> None:
    sqs = _client("sqs", endpoint)
    url = sqs.create_queue(QueueName="counts")["QueueUrl"]
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert len(received) == 2
    assert attributes["ApproximateNumberOfMessages"] == "3"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"


def test_an_expired_message_is_not_received(endpoint: str) -> None:
    sqs = _client("sqs", endpoint)
    url = sqs.create_queue(QueueName="retention", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="fresh")

    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url).get("Messages", [])] == ["fresh"]


@pytest.fixture(scope="module")
def table(endpoint: str) -> str:
    dynamodb = _client("dynamodb", endpoint)
    dynamodb.create_table(
        TableName="speedups",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return "speedups"


def _put(pk: str, value: str = "v", *, condition: str | None = None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": "speedups", "Item": {"pk": {"S": pk}, "sk": {"S": "s"}, "v": {"S": value}}}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _items(endpoint: str) -> dict[str, str]:
    rows = _client("dynamodb", endpoint).scan(TableName="speedups")["Items"]
    return {row["pk"]["S"]: row["v"]["S"] for row in rows}


def test_a_cancelled_transaction_changes_nothing(endpoint: str, table: str) -> None:
    dynamodb = _client("dynamodb", endpoint)
    dynamodb.transact_write_items(TransactItems=[_put("taken", "first"), _put("kept", "old")])

    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[_put("taken", "second", condition="attribute_not_exists(pk)"), _put("kept", "new"),
                           _put("fresh")]
        )  # fmt: skip

    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert {k: v for k, v in _items(endpoint).items() if k in ("taken", "kept", "fresh")} == {
        "taken": "first",
        "kept": "old",
    }


def test_concurrent_transactions_all_succeed(endpoint: str, table: str) -> None:
    dynamodb = _client("dynamodb", endpoint)

    def write(n: int) -> None:
        dynamodb.transact_write_items(TransactItems=[_put(f"c{n}-a"), _put(f"c{n}-b")])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(40)))

    assert sum(1 for key in _items(endpoint) if key.startswith("c")) == 80


def test_a_query_returns_its_partition_in_range_order(endpoint: str, table: str) -> None:
    dynamodb = _client("dynamodb", endpoint)
    for pk, sk in (("topic#a", "conn#2"), ("topic#b", "conn#1"), ("topic#a", "conn#1"), ("topic#a", "meta")):
        dynamodb.put_item(TableName="speedups", Item={"pk": {"S": pk}, "sk": {"S": sk}, "v": {"S": "v"}})

    everything = dynamodb.query(
        TableName="speedups", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "topic#a"}}
    )["Items"]
    connections = dynamodb.query(
        TableName="speedups",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :conn)",
        ExpressionAttributeValues={":pk": {"S": "topic#a"}, ":conn": {"S": "conn#"}},
    )["Items"]
    nothing = dynamodb.query(
        TableName="speedups", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "topic#z"}}
    )["Items"]

    assert [item["sk"]["S"] for item in everything] == ["conn#1", "conn#2", "meta"]
    assert [item["sk"]["S"] for item in connections] == ["conn#1", "conn#2"]
    assert nothing == []
    assert len(dynamodb.scan(TableName="speedups")["Items"]) >= 4  # the table is whole again


_SEND_DURING_DELETE = """
import json, sys, threading
sys.path.insert(0, sys.argv[1])
from infra.local import moto_speedups
if sys.argv[2] == "patched":
    moto_speedups.install()
from moto.sqs.models import sqs_backends
backend = sqs_backends["123456789012"]["us-east-1"]
queue = backend.create_queue("q")
backend.send_message("q", "received")
[received] = backend.receive_message("q", 1, 0, 30)
senders = []

class SwitchBeforeStore(type(queue)):
    __module__ = "moto.sqs.models"  # moto's metaclass names the service after it

    @property
    def _messages(self):
        return self.__dict__["_messages"]

    @_messages.setter
    def _messages(self, value):
        # The thread switch that loses a message: right before a delete stores its rebuilt list.
        if threading.current_thread().name == "deleter" and not senders:
            senders.append(threading.Thread(target=backend.send_message, args=("q", "sent")))
            senders[0].start()
            senders[0].join(0.5)
        self.__dict__["_messages"] = value

queue.__class__ = SwitchBeforeStore
deleter = threading.Thread(target=backend.delete_message, args=("q", received.receipt_handle), name="deleter")
deleter.start()
deleter.join()
senders[0].join()
print(json.dumps([message.body for message in queue.__dict__["_messages"]]))
"""


def _script_result(script: str, mode: str) -> Any:
    """Runs ``script`` in a fresh interpreter (the patches are process-wide), ``mode`` "plain" or
    "patched"; returns the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(REPO), mode],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _queue_after_send_during_delete(mode: str) -> list[str]:
    return list(_script_result(_SEND_DURING_DELETE, mode))


def test_a_message_sent_while_another_is_deleted_is_kept() -> None:
    """moto stored a delete's rebuilt message list without the lock sends take: a message sent in
    between vanished (the soak's lost job events). With the speedups the send waits for the delete."""
    assert _queue_after_send_during_delete("plain") == []  # moto as shipped loses it
    assert _queue_after_send_during_delete("patched") == ["sent"]


_REGIONS_FROM_NEW_SESSIONS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from botocore import loaders
from infra.local import moto_speedups
files = []
original_load_file = loaders.JSONFileLoader.load_file
loaders.JSONFileLoader.load_file = lambda self, path: files.append(path) or original_load_file(self, path)
if sys.argv[2] == "patched":
    moto_speedups.share_botocore_data()
import boto3
regions = [boto3.Session().get_available_regions("ec2") for _ in range(3)]  # what moto's EC2 import does
print(json.dumps({"regions": regions, "files": files}))
"""


def test_botocore_data_is_parsed_once_per_process_with_the_same_answers() -> None:
    plain, patched = (_script_result(_REGIONS_FROM_NEW_SESSIONS, mode) for mode in ("plain", "patched"))

    assert patched["regions"] == plain["regions"]
    assert "us-east-1" in patched["regions"][0]
    assert len(patched["files"]) == len(set(patched["files"]))  # each file once
    assert len(plain["files"]) == 3 * len(set(plain["files"]))  # as shipped: once per session


def _raw_exchange(endpoint: str, requests: list[bytes]) -> list[bytes]:
    """Sends each raw request on one connection, reading each answer (Content-Length framed)."""
    import socket

    host, port = endpoint.removeprefix("http://").split(":")
    answers = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        reader = sock.makefile("rb")
        for request in requests:
            sock.sendall(request)
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = reader.readline()
                if not line:
                    return answers  # the server closed the connection
                head += line
            length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
            answers.append(head + reader.read(length))
    return answers


def _list_queues(endpoint: str, *, extra: str = "", body: bytes = b"{}") -> bytes:
    host = endpoint.removeprefix("http://")
    authorization = (
        "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0"
    )
    return (
        f"POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: AmazonSQS.ListQueues\r\n"
        f"Content-Type: application/x-amz-json-1.0\r\nAuthorization: {authorization}\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def test_requests_share_a_kept_connection(endpoint: str) -> None:
    """Werkzeug closes every connection; the stack's moto keeps them, even past an answer that left
    the body unread (the guard's 403) and a body moto does not need."""
    refused = _list_queues(endpoint, extra="Origin: http://page.example\r\n", body=b'{"QueueNamePrefix": "x"}')

    answers = _raw_exchange(endpoint, [_list_queues(endpoint), refused, _list_queues(endpoint)])

    assert [answer.split(b"\r\n", 1)[0] for answer in answers] == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 403 Forbidden",
        b"HTTP/1.1 200 OK",
    ]
    assert not any(b"connection: close" in answer.lower() for answer in answers)


def test_a_client_asking_to_close_gets_its_connection_closed(endpoint: str) -> None:
    import socket

    host, port = endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(_list_queues(endpoint, extra="Connection: close\r\n"))
        answer = b""
        for _ in range(100):  # bounded: until the server closes its side
            data = sock.recv(65536)
            if not data:
                break
            answer += data

    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert b"connection: close" in answer.lower()


def test_remembered_path_params_answer_as_moto_routes() -> None:
    from types import SimpleNamespace

    from moto.core.routing import RPCRouter, SQSJSONRouter
    from moto.core.utils import get_service_model

    from infra.local import moto_speedups

    router = SQSJSONRouter(get_service_model("sqs"))
    remembered = moto_speedups._remembered_path_params(RPCRouter._get_path_params)
    requests = [
        SimpleNamespace(host="127.0.0.1:5000", raw_path=path, method="POST")
        for path in ("/", "/123456789012/jobs", "/123456789012/jobs/", "/", "/123456789012/jobs")
    ]

    answers = [remembered(router, request) for request in requests]

    assert answers == [RPCRouter._get_path_params(router, request) for request in requests]
    assert answers[1] == {"AccountId": "123456789012", "QueueName": "jobs"}
    answers[0]["mutated"] = True
    assert remembered(router, requests[0]) == {}  # each caller gets its own copy


_DIRECT_AGAINST_FLASK = """
import json, sys
sys.path.insert(0, sys.argv[1])
from infra.local import moto_speedups
moto_speedups.install()
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.test import Client

client = Client(DomainDispatcherApplication(create_backend_app))
SCOPE = "AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"
PREFIX = {"sqs": ("AmazonSQS", "1.0"), "dynamodb": ("DynamoDB_20120810", "1.0")}

def call(service, operation, payload):
    target, version = PREFIX[service]
    answer = client.post("/", data=json.dumps(payload), headers={
        "Host": "127.0.0.1:5000", "Authorization": SCOPE.format(service),
        "X-Amz-Target": f"{target}.{operation}", "Content-Type": f"application/x-amz-json-{version}"})
    body = answer.get_data(as_text=True)
    # Timestamps' digits vary the length: checked against the body, then left out with them.
    assert int(answer.headers["Content-Length"]) == len(answer.get_data())
    varying = ("date", "x-amzn-requestid", "x-amz-crc32", "content-length")
    headers = sorted((k, v) for k, v in answer.headers.items() if k.lower() not in varying)
    for random_field in ("MessageId", "ReceiptHandle", "RequestId", "CreationDateTime", "TableId"):
        body = __import__("re").sub(f'"{random_field}": ?("[^"]*"|[0-9.]+)', random_field, body)
    return [answer.status, headers, body]

def run(direct):
    moto_speedups._DIRECT_SERVICES = ("sqs", "dynamodb") if direct else ()
    suffix = "direct" if direct else "flasks"  # as long: the same Content-Length
    queue, table = f"queue-{suffix}", f"table-{suffix}"
    url = f"http://127.0.0.1:5000/123456789012/{queue}"
    out = [
        call("sqs", "CreateQueue", {"QueueName": queue}),
        call("sqs", "SendMessage", {"QueueUrl": url, "MessageBody": "hello",
             "MessageAttributes": {"a": {"DataType": "String", "StringValue": "b"}}}),
        call("sqs", "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10, "AttributeNames": ["SenderId"],
             "MessageAttributeNames": ["All"]}),
        call("sqs", "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 0}),
        call("sqs", "DeleteMessageBatch", {"QueueUrl": url, "Entries": [{"Id": "0", "ReceiptHandle": "nope"}]}),
        call("sqs", "ReceiveMessage", {"QueueUrl": url + "-missing"}),
        call("sqs", "ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11}),
        call("dynamodb", "CreateTable", {"TableName": table, "BillingMode": "PAY_PER_REQUEST",
             "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
             "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
        call("dynamodb", "PutItem", {"TableName": table, "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}}),
        call("dynamodb", "GetItem", {"TableName": table, "Key": {"pk": {"S": "a"}}}),
        call("dynamodb", "Query", {"TableName": table, "KeyConditionExpression": "pk = :p",
             "ExpressionAttributeValues": {":p": {"S": "a"}}}),
        call("dynamodb", "GetItem", {"TableName": "missing", "Key": {"pk": {"S": "a"}}}),
    ]
    return json.loads(json.dumps(out).replace(suffix, "name"))

d, f = run(True), run(False)
print(json.dumps({"direct": d, "flask": f}))
"""


def test_direct_answers_are_flasks_header_for_header() -> None:
    """moto_speedups 12: SQS and DynamoDB answered without Flask, as Flask answered them."""
    result = _script_result(_DIRECT_AGAINST_FLASK, "patched")

    assert result["direct"] == result["flask"]
    assert [answer[0] for answer in result["direct"]][:4] == ["200 OK"] * 4


def test_method_names_are_listed_once_per_class_with_the_same_answer() -> None:
    from moto.core.utils import method_names_from_class
    from moto.sqs.responses import SQSResponse

    from infra.local import moto_speedups

    listed: list[object] = []

    def counting(clazz: object) -> list[str]:
        listed.append(clazz)
        return method_names_from_class(clazz)

    once = moto_speedups._methods_once(counting)

    assert once(SQSResponse) == once(SQSResponse) == method_names_from_class(SQSResponse)
    assert "receive_message" in once(SQSResponse)
    assert listed == [SQSResponse]


@pytest.mark.parametrize(
    "block",
    [
        b"Host: 127.0.0.1:5000\r\nX-Amz-Target: AmazonSQS.ReceiveMessage\r\nContent-Length: 2\r\n\r\n",
        b"Host:127.0.0.1\r\nX-Dup: a\r\nx-dup: b  \r\nEmpty:\r\nTabbed:\t v\r\n\r\n",
        b"Host: h\r\nFolded: one\r\n  two\r\n\r\n",  # obsolete folding: the email parser
        b"Host: h\r\nno colon here\r\nAfter: x\r\n\r\n",  # a defect: the email parser
        b"Host: h\nBare-LF: yes\n\n",
        b"Latin: caf\xe9\r\n\r\n",
        b"Host: h\r\n",  # the stream ends inside the block
    ],
)
def test_plain_headers_parse_as_the_email_parser_does(block: bytes) -> None:
    import http.client
    import io

    from infra.local import moto_speedups

    parse = moto_speedups._parse_plain_headers(http.client.parse_headers)
    ours, theirs = parse(io.BytesIO(block + b"BODY")), http.client.parse_headers(io.BytesIO(block + b"BODY"))

    assert ours.items() == theirs.items()
    assert ours.get_all("x-dup") == theirs.get_all("x-dup")
    assert type(ours) is type(theirs)
    assert ours.get_payload() == theirs.get_payload()
