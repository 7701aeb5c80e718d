"""The pollers' SQS calls (``ReceiveMessage``, ``DeleteMessageBatch``) over SQS's JSON protocol, in
the standard library: one kept-alive connection per poller, each request signed with SigV4
(``functions/websocket/sigv4.py``, the signer the websocket functions use for their own calls).

Why not boto3: botocore's request pipeline (event hooks, model-driven serialising and parsing, a
new ``AWSRequest`` per call) was most of what the orchestrator spent per job, for two calls whose
shapes never change. The answers are what botocore gives back for the same calls (message
attributes' binary values as bytes); a test compares the two against moto.
"""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from functions.websocket.sigv4 import Credentials, sign
from infra.local.moto_server import FAKE_CREDENTIALS

_CREDENTIALS = Credentials(
    FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
    FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
)


class SqsError(Exception):
    """An error answer: its code (``__type``'s last part, e.g. ``QueueDoesNotExist``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status = status
        self.code = code


class SqsClient:
    """Not thread-safe: one call at a time (a poller makes one at a time)."""

    def __init__(self, endpoint: str, *, region: str, timeout: float) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"an http:// endpoint, not {endpoint!r}")
        self.host = parts.netloc
        self.region = region
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        headers = sign(
            method="POST",
            host=self.host,
            path="/",
            body=body,
            region=self.region,
            service="sqs",
            credentials=_CREDENTIALS,
            headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{operation}"},
        )
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, timeout=self.timeout)
            try:
                self._connection.request("POST", "/", body, headers)
                response = self._connection.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if reused and attempt == 1:
                    continue  # a kept connection the server had closed: once more, on a new one
                raise
            if response.will_close:
                self.close()
            break
        answer: dict[str, Any] = json.loads(data) if data.strip() else {}
        if response.status != 200:
            code = str(answer.get("__type") or answer.get("code") or response.status).rsplit("#", 1)[-1]
            raise SqsError(response.status, code, str(answer.get("message") or answer.get("Message") or ""))
        return answer

    def receive_message(
        self, *, queue_url: str, max_messages: int, wait_seconds: int, visibility_timeout: int | None = None
    ) -> list[dict[str, Any]]:
        """The messages, with every system and message attribute, as botocore returns them."""
        payload: dict[str, Any] = {
            "QueueUrl": queue_url,
            "MaxNumberOfMessages": max_messages,
            "WaitTimeSeconds": wait_seconds,
            "AttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if visibility_timeout is not None:
            payload["VisibilityTimeout"] = visibility_timeout
        messages = list(self.call("ReceiveMessage", payload).get("Messages", []))
        for message in messages:
            for attribute in message.get("MessageAttributes", {}).values():
                # botocore's blob type: base64 on the wire, bytes in the answer.
                if "BinaryValue" in attribute:
                    attribute["BinaryValue"] = base64.b64decode(attribute["BinaryValue"])
                if "BinaryListValues" in attribute:
                    attribute["BinaryListValues"] = [base64.b64decode(v) for v in attribute["BinaryListValues"]]
        return messages

    def delete_message_batch(self, *, queue_url: str, entries: list[dict[str, str]]) -> dict[str, Any]:
        """``{"Successful": [...], "Failed": [...]}`` as SQS answers it."""
        return self.call("DeleteMessageBatch", {"QueueUrl": queue_url, "Entries": entries})
