"""What the local stack's guards refuse (issue 17, finding 4), without a stack: pages of other
sites (Origin), DNS rebinding (Host), moto for any page, unsigned or badly signed management calls."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from infra.local import moto_guard
from infra.local.browser_guard import own_hosts, own_origins, refusal
from infra.local.sigv4_check import SignedRequest, signature_problem

PAGE = own_origins("127.0.0.1", 8000)
WS_HOSTS = own_hosts("127.0.0.1", 8001)


def scope(**headers: str) -> dict[str, object]:
    return {"headers": [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]}


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"host": "127.0.0.1:8001"}, False),
        ({"host": "localhost:8001", "origin": "http://localhost:8000"}, False),
        ({"host": "127.0.0.1:8001", "origin": "http://127.0.0.1:8000"}, False),
        ({"host": "127.0.0.1:8001", "origin": "http://evil.example"}, True),
        ({"host": "127.0.0.1:8001", "origin": "null"}, True),
        ({"host": "127.0.0.1:8001", "origin": "http://127.0.0.1:9999"}, True),  # another local port
        ({"host": "evil.example:8001"}, True),
        ({"host": "127.0.0.1:8000"}, True),  # another listener's port
        ({}, True),
    ],
)
def test_origin_and_host(headers: dict[str, str], refused: bool) -> None:
    assert (refusal(scope(**headers), origins=PAGE, hosts=WS_HOSTS) is not None) is refused


@pytest.mark.parametrize(
    ("environ", "refused"),
    [
        ({"HTTP_HOST": "127.0.0.1:5000", "SERVER_PORT": "5000"}, False),
        ({"HTTP_HOST": "localhost:5000", "SERVER_PORT": "5000"}, False),
        ({"HTTP_HOST": "127.0.0.1:5000", "SERVER_PORT": "5000", "HTTP_ORIGIN": "http://127.0.0.1:8000"}, True),
        ({"HTTP_HOST": "evil.example:5000", "SERVER_PORT": "5000"}, True),
    ],
)
def test_moto_takes_no_page_and_only_its_host(environ: dict[str, str], refused: bool) -> None:
    assert (moto_guard.refusal(environ) is not None) is refused


URL = "http://127.0.0.1:8001/local/@connections/YJ0bQd_PoAMCFXA%3D"


def signed(*, secret: str = "local", body: bytes = b'{"type":"event"}', key: str = "local") -> SignedRequest:
    """Signed as boto3 signs (now), with a session token as the functions' credentials have."""
    request = AWSRequest(method="POST", url=URL, data=body)
    SigV4Auth(Credentials(key, secret, "local"), "execute-api", "us-east-1").add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    return SignedRequest(method="POST", url=URL, query=[], headers={**headers, "host": "127.0.0.1:8001"}, body=body)


def check(request: SignedRequest, *, now: dt.datetime | None = None) -> str | None:
    return signature_problem(request, access_key="local", secret_key="local", region="us-east-1", now=now)


def test_a_request_signed_with_the_stacks_credentials_passes() -> None:
    assert check(signed()) is None


def test_unsigned_forged_stale_and_foreign_requests_are_refused() -> None:
    unsigned = SignedRequest("POST", URL, [], {"host": "127.0.0.1:8001"}, b"x")
    assert check(unsigned) == "no AWS4-HMAC-SHA256 Authorization header"
    assert check(signed(secret="guessed")) == "the signature does not match"
    tampered = signed()
    assert (
        check(SignedRequest("POST", URL, [], tampered.headers, b'{"type":"forged"}')) == "the signature does not match"
    )
    assert check(signed(key="someone")) == "unknown access key"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    assert check(signed(), now=later) == "X-Amz-Date is too far from now or from the credential's date"
