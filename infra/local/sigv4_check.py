"""Verifies an AWS Signature Version 4 as the local management API's IAM would.

AWS refuses an unsigned or badly signed ``@connections`` call (403 ``ForbiddenException`` /
``MissingAuthenticationTokenException``); the local stack accepted anything, so any local process
or page could post to, read or close any connection. Here the signature is recomputed with
botocore's own canonicalisation over exactly the headers the caller signed, with the stack's
fake credentials (``moto_server.FAKE_CREDENTIALS``), which every function and test signs with.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "execute-api"
MAX_CLOCK_SKEW = dt.timedelta(minutes=15)  # AWS's: RequestTimeTooSkewed past 15 minutes
_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s]+)/(?P<date>\d{8})/(?P<region>[\w-]+)/(?P<service>[\w-]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass(frozen=True)
class SignedRequest:
    method: str
    url: str  # scheme://host/path as the client addressed it (the path still percent-encoded)
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes


class _OnlySignedHeaders(SigV4Auth):
    """botocore's SigV4 restricted to the headers the client listed in SignedHeaders."""

    def __init__(self, credentials: Credentials, region: str, signed: list[str]) -> None:
        super().__init__(credentials, SERVICE, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> object:  # botocore returns its HTTPHeaders
        headers = super().headers_to_sign(request)
        for name in list(headers.keys()):
            if name.lower() not in self._signed:
                del headers[name]
        return headers


def signature_problem(
    request: SignedRequest, *, access_key: str, secret_key: str, region: str, now: dt.datetime | None = None
) -> str | None:
    """Why the request's signature is not valid for these credentials, or None when it is."""
    authorization = request.headers.get("authorization", "")
    match = _AUTHORIZATION.fullmatch(authorization.strip())
    if match is None:
        return "no AWS4-HMAC-SHA256 Authorization header"
    if match["key"] != access_key:
        return "unknown access key"
    if match["service"] != SERVICE or match["region"] != region:
        return f"signed for {match['service']} in {match['region']}, not {SERVICE} in {region}"
    stamp = request.headers.get("x-amz-date", "")
    try:
        signed_at = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return "no valid X-Amz-Date"
    if abs((now or dt.datetime.now(dt.UTC)) - signed_at) > MAX_CLOCK_SKEW or stamp[:8] != match["date"]:
        return "X-Amz-Date is too far from now or from the credential's date"
    signed = match["signed"].split(";")
    if "host" not in signed:
        return "the Host header is not signed"
    url = request.url + (f"?{urlencode(request.query)}" if request.query else "")
    aws_request = AWSRequest(method=request.method, url=url, headers=dict(request.headers), data=request.body)
    aws_request.context["timestamp"] = stamp
    signer = _OnlySignedHeaders(Credentials(access_key, secret_key), region, signed)
    canonical = signer.canonical_request(aws_request)
    expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
    if not hmac.compare_digest(expected, match["signature"]):
        return "the signature does not match"
    return None
