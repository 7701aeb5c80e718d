"""AWS Signature Version 4 for our own HTTP requests, in the standard library only.

Why not botocore's ``SigV4Auth``: importing botocore costs the websocket function more than its
whole "bare handler" floor at cold start, and building an ``AWSRequest`` per call is most of the
CPU that ``post_to_connection`` spends. The algorithm is small and fixed; a test signs
the same requests with botocore and asserts identical ``Authorization`` headers.
Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None


def credentials_from_environment() -> Credentials:
    """Lambda puts the execution role's credentials in the environment; elsewhere, botocore's chain.

    botocore is imported only when the environment lacks keys (a developer's profile, an
    instance role), so the Lambda cold path never pays for it.
    """
    access_key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret_key = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if access_key and secret_key:
        return Credentials(access_key, secret_key, os.environ.get("AWS_SESSION_TOKEN") or None)
    import botocore.session

    resolved = botocore.session.get_session().get_credentials()
    if resolved is None:
        raise RuntimeError("no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile")
    frozen = resolved.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


@lru_cache(maxsize=16)
def _signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    # Derived once per day, region and service: four HMACs saved on every request.
    key = hmac.new(f"AWS4{secret_key}".encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_uri(path: str) -> str:
    """The path as sent, percent-encoded once more: what AWS (and botocore) sign for non-S3 services.

    A connection id such as ``abc=`` travels as ``/@connections/abc%3D`` and is signed as
    ``/%40connections/abc%253D``.
    """
    return quote(path or "/", safe="/~")


def sign(
    *,
    method: str,
    host: str,
    path: str,
    body: bytes,
    region: str,
    service: str,
    credentials: Credentials,
    headers: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """The headers to send: ``headers`` plus Host, X-Amz-Date, the token and Authorization.

    Every header passed in is signed. ``path`` is the request path exactly as it goes on the wire
    (already percent-encoded); there is no query string in the requests we make.
    """
    moment = now or dt.datetime.now(dt.UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed: dict[str, str] = {name.lower(): " ".join(value.split()) for name, value in (headers or {}).items()}
    signed["host"] = host
    signed["x-amz-date"] = amz_date
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        (
            method,
            canonical_uri(path),
            "",
            "".join(f"{name}:{signed[name]}\n" for name in names),
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    string_to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    signature = hmac.new(
        _signing_key(credentials.secret_key, day, region, service), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()
    out = dict(headers or {})
    out["Host"] = host
    out["X-Amz-Date"] = amz_date
    if credentials.token:
        out["X-Amz-Security-Token"] = credentials.token
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return out
