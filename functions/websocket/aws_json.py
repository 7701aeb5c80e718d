"""A minimal client for AWS's JSON protocol (DynamoDB, SSM): one signed POST per operation.

Why not boto3: importing boto3 and loading DynamoDB's service model takes more than the websocket
function's whole cold-start budget, and ``$connect`` needs DynamoDB before it can answer.
The endpoint comes from configuration exactly as botocore finds it (``aws_endpoints``), so moto,
LocalStack and AWS need no branches in our code.
"""

from __future__ import annotations

import json
import time
from typing import Any

from contracts import backoff
from functions.websocket import sigv4
from functions.websocket.aws_endpoints import endpoint_url, region
from functions.websocket.http_pool import HttpPool, TransportError

# (JSON protocol version, the signing name) per service we call.
_PROTOCOLS = {"dynamodb": ("1.0", "dynamodb"), "ssm": ("1.1", "ssm")}
# Error codes AWS documents as "retry with backoff"; 5xx and transport errors are retried too.
_RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "TransactionInProgressException",
    }
)


class AwsError(Exception):
    """An error answer from AWS, with its short code (``ConditionalCheckFailedException``)."""

    def __init__(self, code: str, message: str, *, status: int, body: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.code = code
        self.message = message
        self.status = status
        self.body = body or {}

    @property
    def retryable(self) -> bool:
        return self.code in _RETRYABLE or self.status >= 500


class AwsJsonClient:
    def __init__(
        self,
        *,
        service: str,
        url: str,
        region: str,
        credentials: sigv4.Credentials,
        max_attempts: int = 3,
        connect_timeout: float = 1.0,
        read_timeout: float = 3.0,
    ) -> None:
        self.version, self.signing_name = _PROTOCOLS[service]
        self.region = region
        self.credentials = credentials
        self.max_attempts = max_attempts
        self.pool = HttpPool(url, connect_timeout=connect_timeout, read_timeout=read_timeout)
        self._path = self.pool.origin.base_path or "/"

    @classmethod
    def for_service(cls, service: str) -> AwsJsonClient:
        here = region()
        return cls(
            service=service,
            url=endpoint_url(service, here),
            region=here,
            credentials=sigv4.credentials_from_environment(),
        )

    def call(self, target: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``target`` is ``<prefix>.<Operation>``, e.g. ``DynamoDB_20120810.PutItem``."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        for attempt in range(1, self.max_attempts + 1):
            headers = sigv4.sign(
                method="POST",
                host=self.pool.origin.host_header,
                path=self._path,
                body=body,
                region=self.region,
                service=self.signing_name,
                credentials=self.credentials,
                headers={"Content-Type": f"application/x-amz-json-{self.version}", "X-Amz-Target": target},
            )
            try:
                response = self.pool.request("POST", self._path, body=body, headers=headers)
            except TransportError:
                if attempt == self.max_attempts:
                    raise
                _backoff(attempt)
                continue
            answer = _json_body(response.body)
            if response.status == 200:
                return answer
            # "__type" is "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException".
            code = str(answer.get("__type", "")).rsplit("#", 1)[-1] or f"HTTP{response.status}"
            message = str(answer.get("message") or answer.get("Message") or "")
            error = AwsError(code, message, status=response.status, body=answer)
            if not error.retryable or attempt == self.max_attempts:
                raise error
            _backoff(attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _json_body(body: bytes) -> dict[str, Any]:
    """The answer's JSON; a body that is not JSON (a load balancer's or proxy's HTML 5xx page)
    counts as empty, so the status alone decides (5xx: retried, then ``AwsError``)."""
    try:
        answer = json.loads(body) if body else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _backoff(attempt: int) -> None:
    # Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"), capped well under the
    # websocket function's 10 s timeout.
    time.sleep(backoff.full_jitter(base=0.025, exponent=attempt, cap=0.5))
