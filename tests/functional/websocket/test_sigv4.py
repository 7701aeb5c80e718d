"""Our SigV4 signer signs exactly as botocore's ``SigV4Auth`` does."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from functions.websocket import sigv4


@pytest.mark.parametrize("token", [None, "session-token/with+odd=chars"])
@pytest.mark.parametrize(
    ("service", "host", "path", "body", "headers"),
    [
        (
            "execute-api",
            "abc123.execute-api.us-east-1.amazonaws.com",
            "/dev/@connections/YJ0bQd_PoAMCFXA%3D",
            b"{}",
            {},
        ),
        ("execute-api", "127.0.0.1:4510", "/local/@connections/a-b_c", b'{"type":"pong"}', {}),
        (
            "dynamodb",
            "dynamodb.us-east-1.amazonaws.com",
            "/",
            b'{"TableName":"t"}',
            {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem"},
        ),
    ],
)
def test_signature_matches_botocore(
    service: str, host: str, path: str, body: bytes, headers: dict[str, str], token: str | None
) -> None:
    request = AWSRequest(method="POST", url=f"https://{host}{path}", data=body, headers=dict(headers))
    SigV4Auth(
        BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token), service, "us-east-1"
    ).add_auth(request)

    # botocore signs with the current time: sign ours with the very same moment.
    moment = dt.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    ours = sigv4.sign(
        method="POST",
        host=host,
        path=path,
        body=body,
        region="us-east-1",
        service=service,
        credentials=sigv4.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token),
        headers=headers,
        now=moment,
    )

    assert ours["Authorization"] == request.headers["Authorization"]
    assert ours["X-Amz-Date"] == request.headers["X-Amz-Date"]
