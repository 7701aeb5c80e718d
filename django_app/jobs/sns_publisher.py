"""SNS ``PublishBatch`` as one signed HTTP POST, without botocore's request pipeline.

Every job state change is published, so this is the worker's most frequent AWS call: two per SQS
batch of ten. Through a boto3 client a PublishBatch of ten job events cost ~4 ms of CPU (model-driven
validation and serialization of ~80 parameters, event hooks, and the form body URL-encoded twice, for
the signature and for the send, one character at a time), against ~1 ms for the work itself. This
builds the same form body, signs it with botocore's own SigV4 signer, sends it on a kept urllib3
pool and reads the answer into the shape boto3 returns. Errors keep botocore's types (``ClientError``
for an error answer, a ``BotoCoreError`` when nothing came back), so callers handle them as before.
The endpoint, region and credentials are those of the boto3 client (``aws.client("sns")``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from typing import Any

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError, HTTPClientError, NoCredentialsError

API_VERSION = "2010-03-31"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

# Each UTF-8 byte (read as one latin-1 character) as urllib's ``quote_plus`` writes it, which is
# what botocore sends: letters, digits and ``_.-~`` as they are, a space as ``+``, others as ``%XX``.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_FORM_BYTE = {
    byte: chr(byte) if byte in _UNRESERVED else "+" if byte == 0x20 else f"%{byte:02X}" for byte in range(256)
}


def form_quote(value: str) -> str:
    return value.encode().decode("latin-1").translate(_FORM_BYTE)


def publish_batch_body(topic_arn: str, entries: Sequence[Mapping[str, Any]]) -> bytes:
    """The query-protocol form of a PublishBatch (entries with Id, Message and string or number
    MessageAttributes), parameter for parameter as botocore serializes it."""
    params = [("Action", "PublishBatch"), ("Version", API_VERSION), ("TopicArn", topic_arn)]
    for number, entry in enumerate(entries, 1):
        member = f"PublishBatchRequestEntries.member.{number}."
        params += [(member + "Id", entry["Id"]), (member + "Message", entry["Message"])]
        for position, (name, value) in enumerate((entry.get("MessageAttributes") or {}).items(), 1):
            attribute = f"{member}MessageAttributes.entry.{position}."
            params += [
                (attribute + "Name", name),
                (attribute + "Value.DataType", value["DataType"]),
                (attribute + "Value.StringValue", value["StringValue"]),
            ]
    return "&".join(f"{form_quote(key)}={form_quote(value)}" for key, value in params).encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # without the XML namespace


def _members(parent: ElementTree.Element | None) -> list[dict[str, str]]:
    if parent is None:
        return []
    return [{_local(field.tag): field.text or "" for field in member} for member in parent]


def _child(element: ElementTree.Element, name: str) -> ElementTree.Element | None:
    return next((child for child in element.iter() if _local(child.tag) == name), None)


def response_parse(status: int, body: bytes) -> dict[str, Any]:
    """boto3's answer to a PublishBatch (``Successful``, ``Failed``), or the ``ClientError`` it raises."""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314  (the configured SNS endpoint's answer, as botocore parses it)
    except ElementTree.ParseError:
        root = None
    if status != 200 or root is None or _local(root.tag) != "PublishBatchResponse":
        error = _child(root, "Error") if root is not None else None
        fields = {_local(field.tag): field.text or "" for field in error} if error is not None else {}
        raise ClientError(
            {
                "Error": {"Code": fields.get("Code") or str(status), "Message": fields.get("Message", "")},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "PublishBatch",
        )
    failed = [
        {**member, "SenderFault": member.get("SenderFault") == "true"} for member in _members(_child(root, "Failed"))
    ]
    return {"Successful": _members(_child(root, "Successful")), "Failed": failed}


class SnsPublisher:
    """Thread-safe: the worker's outbox publishes from a small thread pool."""

    def __init__(
        self, *, endpoint_url: str, region: str, credentials: Any, connect_timeout: float, read_timeout: float
    ) -> None:
        self._url = endpoint_url.rstrip("/") + "/"
        self._region = region
        self._credentials = credentials  # botocore's (refreshable) credentials, or None
        self._pool = urllib3.PoolManager(
            num_pools=1, maxsize=4, retries=False, timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        )

    def publish_batch(
        self,
        *,
        TopicArn: str,  # noqa: N803  (boto3's names: a drop-in for the client's method)
        PublishBatchRequestEntries: Sequence[Mapping[str, Any]],  # noqa: N803
    ) -> dict[str, Any]:
        if self._credentials is None:
            raise NoCredentialsError()
        body = publish_batch_body(TopicArn, PublishBatchRequestEntries)
        request = AWSRequest(method="POST", url=self._url, data=body, headers={"Content-Type": CONTENT_TYPE})
        SigV4Auth(self._credentials.get_frozen_credentials(), "sns", self._region).add_auth(request)
        try:
            response = self._pool.request("POST", self._url, body=body, headers=dict(request.headers.items()))
        except urllib3.exceptions.HTTPError as error:
            raise HTTPClientError(error=error) from error
        return response_parse(response.status, response.data)
