"""The local stack's side doors (issue 17, finding 4): no other site's page reaches moto, the
gateways or the management API through the developer's browser, a rebinding ``Host`` is refused,
and the management API takes only calls signed with the stack's credentials."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
import websockets
from botocore.exceptions import ClientError
from websockets.exceptions import InvalidStatus

from infra.local.stack import LocalStack
from tests.integration.local_stack.client import WAIT_SECONDS

pytestmark = pytest.mark.slow
EVIL = "http://evil.example"


def _status(
    url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_moto_refuses_any_page_and_a_foreign_host(local_stack: LocalStack) -> None:
    ssm_call = {"X-Amz-Target": "AmazonSSM.GetParametersByPath", "Content-Type": "application/x-amz-json-1.1"}
    body = json.dumps({"Path": "/polyglot/local", "WithDecryption": True}).encode()
    # The review's probe: a page posting to moto and reading the answer through CORS.
    assert _status(local_stack.aws_endpoint, method="POST", headers={**ssm_call, "Origin": EVIL}, body=body)[0] == 403
    preflight = {
        "Origin": EVIL,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target",
    }
    assert _status(local_stack.aws_endpoint, method="OPTIONS", headers=preflight)[0] == 403
    # DNS rebinding: the page's own name, now resolving to 127.0.0.1.
    assert (
        _status(local_stack.aws_endpoint, method="POST", headers={**ssm_call, "Host": "evil.example"}, body=body)[0]
        == 403
    )
    # SDKs still get in.
    sqs = boto3.session.Session().client(
        "sqs", endpoint_url=local_stack.aws_endpoint, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    assert any(url.endswith("polyglot-local-jobs") for url in sqs.list_queues()["QueueUrls"])


def test_the_http_gateway_refuses_other_origins_and_hosts(local_stack: LocalStack) -> None:
    health = f"{local_stack.http_url}/api/health/"
    assert _status(health)[0] == 200
    assert _status(health, headers={"Origin": local_stack.http_url})[0] == 200  # the stack's own page
    assert _status(health, headers={"Origin": EVIL})[0] == 403
    assert _status(health, method="POST", headers={"Origin": "null"}, body=b"{}")[0] == 403  # sandboxed frames
    assert _status(health, headers={"Host": "evil.example"})[0] == 403


def _handshake(url: str, **kwargs: Any) -> int:
    async def attempt() -> int:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(url, open_timeout=WAIT_SECONDS, **kwargs)
        return refused.value.response.status_code

    return asyncio.run(attempt())


def test_the_websocket_gateway_refuses_other_origins_and_hosts(local_stack: LocalStack) -> None:
    # Past the guard, $connect itself answers (401: no ticket); the guard answers 403 first.
    assert _handshake(local_stack.ws_url, origin=local_stack.http_url) == 401
    assert _handshake(local_stack.ws_url, origin=EVIL) == 403
    # DNS rebinding: the browser connects to 127.0.0.1 but names evil.example in Host.
    port = int(local_stack.ws_url.split(":")[2].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_SECONDS) as sock:
        assert _handshake(f"ws://evil.example:{port}/local", sock=sock) == 403


def _management(stack: LocalStack, secret: str) -> Any:
    return boto3.session.Session().client(
        "apigatewaymanagementapi", endpoint_url=stack.management_url, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key=secret,
    )  # fmt: skip


def test_the_management_api_takes_only_signed_calls(local_stack: LocalStack) -> None:
    unknown = f"{local_stack.management_url}/@connections/bm90LWEtY29ubmVjdGlvbg%3D%3D"
    status, body = _status(unknown, method="POST", body=b"forged event")
    assert status == 403
    assert json.loads(body) == {"message": "Missing Authentication Token"}

    with pytest.raises(ClientError) as wrong:
        _management(local_stack, "not-the-secret").post_to_connection(
            ConnectionId="bm90LWEtY29ubmVjdGlvbg==", Data=b"x"
        )
    assert wrong.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert wrong.value.response["Error"]["Code"] == "InvalidSignatureException"

    with pytest.raises(ClientError) as signed:  # properly signed: through to the connection lookup
        _management(local_stack, "local").post_to_connection(ConnectionId="bm90LWEtY29ubmVjdGlvbg==", Data=b"x")
    assert signed.value.response["Error"]["Code"] == "GoneException"
    # From a page, even with a signature it could not have: refused.
    assert _status(unknown, method="POST", headers={"Origin": local_stack.http_url}, body=b"x")[0] == 403


def test_no_secret_is_in_moto(local_stack: LocalStack) -> None:
    """The review's probe read the ticket key from moto's SSM with made-up credentials. Now the
    functions get their secrets in their environment and moto holds only public parameters."""
    ssm = boto3.client(
        "ssm", endpoint_url=local_stack.aws_endpoint, region_name="us-east-1",
        aws_access_key_id="made-up", aws_secret_access_key="made-up",
    )  # fmt: skip
    found = []
    for root in ("/polyglot", "/polyglot-issuer"):
        found += ssm.get_parameters_by_path(Path=root, Recursive=True, WithDecryption=True)["Parameters"]
    names = {parameter["Name"].rsplit("/", 1)[-1] for parameter in found}
    assert {parameter["Type"] for parameter in found} == {"String"}
    assert names.isdisjoint({"django-secret-key", "auth-signing-key", "database-url", "ticket-signing-key"})
    assert not any("PRIVATE KEY" in parameter["Value"] for parameter in found)
    assert "api-base-url" in names  # the stack's public parameters are still there
