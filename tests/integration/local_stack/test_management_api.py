"""boto3's ``apigatewaymanagementapi`` client against the local WebSocket gateway: post, get,
delete, 410 for gone connections and 413 over 128 KB, with and without the stage prefix."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local.stack import LocalStack
from tests.integration.local_stack.client import WAIT_SECONDS, Api, connect, subscribe

pytestmark = pytest.mark.slow


def _client(endpoint: str) -> Any:
    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _connection_ids(stack: LocalStack, topic: str) -> list[str]:
    """The connections subscribed to ``topic``, as the websocket function stored them."""
    dynamodb = boto3.session.Session().client(
        "dynamodb", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    items = dynamodb.query(
        TableName="polyglot-local-connections",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"topic#{topic}"}},
    )["Items"]
    return [item["sk"]["S"].removeprefix("conn#") for item in items]


def _error(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_management_api_as_boto3_sees_it(local_stack: LocalStack) -> None:
    username = f"mgmt-{uuid.uuid4().hex[:8]}"
    local_stack.create_user(username, "a-long-password-1")
    api = Api(local_stack, local_stack.create_token(username=username))
    staged = _client(local_stack.management_url)
    stageless = _client(local_stack.management_url.rsplit("/", 1)[0])

    async def scenario() -> None:
        ws = await connect(api)
        topic = next(t for t in api.ticket()["topics"] if t.startswith("user:"))
        await subscribe(ws, topic)
        (connection_id,) = _connection_ids(local_stack, topic)

        await asyncio.to_thread(staged.post_to_connection, ConnectionId=connection_id, Data=b'{"hello": "staged"}')
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT_SECONDS)) == {"hello": "staged"}
        await asyncio.to_thread(stageless.post_to_connection, ConnectionId=connection_id, Data=b'{"hello": "root"}')
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT_SECONDS)) == {"hello": "root"}

        described = await asyncio.to_thread(staged.get_connection, ConnectionId=connection_id)
        assert described["Identity"]["SourceIp"] == "127.0.0.1"
        assert described["ConnectedAt"] <= described["LastActiveAt"]
        assert (await asyncio.to_thread(stageless.get_connection, ConnectionId=connection_id))[
            "ConnectedAt"
        ] == described["ConnectedAt"]

        too_large = b"x" * (128 * 1024 + 1)
        code, status = await asyncio.to_thread(
            _error, lambda: staged.post_to_connection(ConnectionId=connection_id, Data=too_large)
        )
        assert (code, status) == ("PayloadTooLargeException", 413)
        await asyncio.to_thread(staged.post_to_connection, ConnectionId=connection_id, Data=b"y" * (128 * 1024))
        assert len(await asyncio.wait_for(ws.recv(), WAIT_SECONDS)) == 128 * 1024

        await asyncio.to_thread(staged.delete_connection, ConnectionId=connection_id)
        await asyncio.wait_for(ws.wait_closed(), WAIT_SECONDS)
        for call in (
            lambda: staged.post_to_connection(ConnectionId=connection_id, Data=b"{}"),
            lambda: staged.get_connection(ConnectionId=connection_id),
            lambda: staged.delete_connection(ConnectionId=connection_id),
        ):
            assert await asyncio.to_thread(_error, call) == ("GoneException", 410)
        # $disconnect ran: the websocket function forgot the connection's subscriptions.
        local_stack.wait_for_log(r"INVOKE ws \$disconnect")

    asyncio.run(scenario())


def test_unknown_connection_is_gone(local_stack: LocalStack) -> None:
    client = _client(local_stack.management_url)
    assert _error(lambda: client.post_to_connection(ConnectionId="bm9uZXhpc3RlbnQ=", Data=b"{}")) == (
        "GoneException",
        410,
    )
    assert _error(lambda: client.get_connection(ConnectionId="bm9uZXhpc3RlbnQ=")) == ("GoneException", 410)


def _signed(url: str, body: bytes) -> urllib.request.Request:
    """A raw request signed as boto3 signs it (the management API checks SigV4)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    aws_request = AWSRequest(method="POST", url=url, data=body)
    SigV4Auth(Credentials("local", "local"), "execute-api", "us-east-1").add_auth(aws_request)
    return urllib.request.Request(url, data=body, method="POST", headers=dict(aws_request.headers.items()))


def test_gone_answer_is_what_aws_sends(local_stack: LocalStack) -> None:
    request = _signed(f"{local_stack.management_url}/@connections/unknown", b"{}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=WAIT_SECONDS)
    assert caught.value.code == 410
    assert caught.value.headers["x-amzn-ErrorType"] == "GoneException"
    body = caught.value.read()
    assert "message" in json.loads(body)
    # Sized, not chunked, as API Gateway answers.
    assert caught.value.headers["Content-Length"] == str(len(body))
    assert caught.value.headers["Transfer-Encoding"] is None
