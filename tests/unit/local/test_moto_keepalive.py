"""The local stack's moto keeps HTTP/1.1 connections open (infra/local/moto_keepalive.py): requests
that follow each other on one connection, even sent in one write, each get their own answer, and a
client that asks for the connection to close gets that."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import BinaryIO

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from infra.local.moto_server import FAKE_CREDENTIALS, MotoServer


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    server = MotoServer(services=("sqs",))
    server.launch()
    try:
        host, port = server.wait().removeprefix("http://").split(":")
        yield host, int(port)
    finally:
        server.stop()


def sqs_request(address: tuple[str, int], action: str, body: dict[str, object], *, version: str = "1.1") -> bytes:
    """A signed SQS JSON request as raw HTTP bytes (SigV4 routes it to moto's SQS)."""
    url = f"http://{address[0]}:{address[1]}/"
    request = AWSRequest(
        method="POST",
        url=url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{action}"},
    )
    credentials = Credentials(FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    SigV4Auth(credentials, "sqs", "us-east-1").add_auth(request)
    assert isinstance(request.data, bytes)
    headers = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
    host = f"Host: {address[0]}:{address[1]}\r\n"
    head = f"POST / HTTP/{version}\r\n{host}{headers}Content-Length: {len(request.data)}\r\n\r\n"
    return head.encode() + request.data


def read_head(reader: BinaryIO) -> tuple[int, dict[str, str]]:
    status = int(reader.readline().split()[1])
    headers: dict[str, str] = {}
    while (line := reader.readline().decode().strip()) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def read_answer(reader: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """One answer off the connection (one reader per connection: it may read ahead)."""
    status, headers = read_head(reader)
    return status, headers, reader.read(int(headers["content-length"]))


def test_requests_sent_together_on_one_connection_each_get_their_answer(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as sock, sock.makefile("rb") as reader:
        sock.sendall(
            sqs_request(address, "CreateQueue", {"QueueName": "kept-1"})
            + sqs_request(address, "CreateQueue", {"QueueName": "kept-2"})
        )
        first = read_answer(reader)
        second = read_answer(reader)
        sock.sendall(sqs_request(address, "ListQueues", {"QueueNamePrefix": "kept-"}))
        third = read_answer(reader)

    assert [answer[0] for answer in (first, second, third)] == [200, 200, 200]
    assert json.loads(first[2])["QueueUrl"].endswith("/kept-1")
    assert json.loads(second[2])["QueueUrl"].endswith("/kept-2")
    assert sorted(url.rsplit("/", 1)[1] for url in json.loads(third[2])["QueueUrls"]) == ["kept-1", "kept-2"]
    assert all("connection" not in answer[1] for answer in (first, second, third))


def test_an_error_answer_keeps_the_connection_usable(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as sock, sock.makefile("rb") as reader:
        sock.sendall(sqs_request(address, "GetQueueUrl", {"QueueName": "no-such-queue"}))
        status, _, body = read_answer(reader)
        sock.sendall(sqs_request(address, "ListQueues", {}))
        after, _, _ = read_answer(reader)

    assert status == 400
    assert "QueueDoesNotExist" in body.decode()
    assert after == 200


def test_an_http_1_0_client_gets_its_answer_and_the_connection_closes(address: tuple[str, int]) -> None:
    with socket.create_connection(address, timeout=10) as sock, sock.makefile("rb") as reader:
        sock.sendall(sqs_request(address, "ListQueues", {}, version="1.0"))
        status, headers, _ = read_answer(reader)
        rest = reader.read(1)

    assert status == 200
    assert headers["connection"] == "close"
    assert rest == b""  # the server closed its side


def test_a_chunked_body_is_read_whole(address: tuple[str, int]) -> None:
    raw = sqs_request(address, "CreateQueue", {"QueueName": "chunked"})
    head, _, body = raw.partition(b"\r\n\r\n")
    head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length"))
    chunked = head + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    with socket.create_connection(address, timeout=10) as sock, sock.makefile("rb") as reader:
        sock.sendall(chunked)
        status, _, answer = read_answer(reader)
        sock.sendall(sqs_request(address, "ListQueues", {"QueueNamePrefix": "chunked"}))
        after, _, listed = read_answer(reader)

    assert status == 200
    assert json.loads(answer)["QueueUrl"].endswith("/chunked")
    assert (after, len(json.loads(listed)["QueueUrls"])) == (200, 1)


def test_a_head_answer_has_no_body_and_the_next_answer_follows_it(address: tuple[str, int]) -> None:
    head = sqs_request(address, "ListQueues", {}).replace(b"POST / ", b"HEAD / ", 1)
    with socket.create_connection(address, timeout=10) as sock, sock.makefile("rb") as reader:
        sock.sendall(head + sqs_request(address, "ListQueues", {}))
        read_head(reader)  # whatever moto answers a HEAD, no body follows its head
        status, _, body = read_answer(reader)

    assert status == 200
    assert "QueueUrls" in json.loads(body)
