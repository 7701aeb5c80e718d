"""Job events to SNS: ``publish_events`` sends up to ten as one ``PublishBatch`` and returns the
ones SNS did not take.

Every job state change is published, so this is the worker's most frequent AWS call: two per SQS
batch of ten. It is one signed HTTP POST, without botocore's request pipeline: its model-driven
validation and serialization of every parameter, event hooks, and the form body URL-encoded twice
(for the signature and for the send, one character at a time) cost more CPU than the work itself.
This builds the form body botocore would send, signs it with botocore's own
SigV4 signer and sends it on a kept urllib3 pool. AWS's answers become domain values: entries taken
or failed (``BatchAnswer``), and ``PublishFailed`` when the call as a whole failed. The endpoint,
region and credentials are those of the boto3 client (``aws.client("sns")``).
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from contracts import backoff
from contracts.job_event import JobEvent

logger = logging.getLogger(__name__)

PUBLISH_ATTEMPTS = 3

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


class StringAttribute(TypedDict):
    DataType: str
    StringValue: str


class BatchEntry(TypedDict, total=False):
    """One entry of a PublishBatch, named as the query protocol names its fields."""

    Id: str
    Message: str
    MessageAttributes: dict[str, StringAttribute]


def publish_batch_body(topic_arn: str, entries: Sequence[BatchEntry]) -> bytes:
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


class PublishFailed(Exception):
    """SNS took none of the batch: an error answer (its ``code`` and HTTP ``status``), or no answer
    at all (``status`` None: unreachable, timed out, no credentials)."""

    def __init__(self, code: str, message: str, *, status: int | None) -> None:
        super().__init__(f"{code}: {message}" + (f" (HTTP {status})" if status is not None else ""))
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class EntryFailure:
    code: str
    message: str
    sender_fault: bool  # refused for what it is: sending it again cannot help


@dataclass(frozen=True)
class BatchAnswer:
    """What SNS said of each entry, by ``Id``: taken, or failed. The API promises one of the two
    for every entry; an entry named in neither (moto drops those whose delivery raised) is unknown."""

    taken: frozenset[str]
    failed: dict[str, EntryFailure]


def response_parse(status: int, body: bytes) -> BatchAnswer:
    """The answer to a PublishBatch; raises ``PublishFailed`` for an error answer (or one that is
    not SNS's XML, as a proxy's error page)."""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314  (the configured SNS endpoint's answer, as botocore parses it)
    except ElementTree.ParseError:
        root = None
    if status != 200 or root is None or _local(root.tag) != "PublishBatchResponse":
        error = _child(root, "Error") if root is not None else None
        fields = {_local(field.tag): field.text or "" for field in error} if error is not None else {}
        raise PublishFailed(fields.get("Code") or str(status), fields.get("Message", ""), status=status)
    failed = {
        member.get("Id", ""): EntryFailure(
            code=member.get("Code", ""),
            message=member.get("Message", ""),
            sender_fault=member.get("SenderFault") == "true",
        )
        for member in _members(_child(root, "Failed"))
    }
    taken = frozenset(member.get("Id", "") for member in _members(_child(root, "Successful")))
    return BatchAnswer(taken=taken, failed=failed)


def _entries(events: Sequence[JobEvent]) -> list[BatchEntry]:
    return [
        {
            "Id": str(index),
            "Message": event.model_dump_json(),
            "MessageAttributes": {
                "type": {"DataType": "String", "StringValue": event.type},
                "owner": {"DataType": "String", "StringValue": event.owner},
            },
        }
        for index, event in enumerate(events)
    ]


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

    def publish_events(self, *, topic_arn: str, events: Sequence[JobEvent]) -> list[JobEvent]:
        """Publishes up to ten events as one PublishBatch; returns the events SNS did not take.

        An entry SNS failed on its side (not the sender's fault), a call that failed, and an entry
        the answer names in neither list are tried again, ``PUBLISH_ATTEMPTS`` times in all. An
        entry refused as the sender's fault is not. Every event not taken is logged.
        """
        chunk = list(events)
        not_taken: list[JobEvent] = []
        for attempt in range(1, PUBLISH_ATTEMPTS + 1):
            if not chunk:
                break
            retry, refused = self._publish_once(topic_arn, chunk, final=attempt == PUBLISH_ATTEMPTS)
            not_taken += refused
            if not retry:
                break
            if attempt == PUBLISH_ATTEMPTS:
                not_taken += retry
                break
            chunk = retry
            time.sleep(backoff.full_jitter(base=0.05, exponent=attempt))
        return not_taken

    def _publish_once(
        self, topic_arn: str, chunk: list[JobEvent], *, final: bool
    ) -> tuple[list[JobEvent], list[JobEvent]]:
        """One PublishBatch; returns (events to try again, events refused for good)."""
        log = logger.error if final else logger.warning
        try:
            answer = self.send_batch(topic_arn=topic_arn, entries=_entries(chunk))
        except PublishFailed as error:
            log("publishing %d job event(s) failed: %s", len(chunk), error)
            return chunk, []
        retry: list[JobEvent] = []
        refused: list[JobEvent] = []
        for index, event in enumerate(chunk):
            if str(index) in answer.taken:
                continue
            failure = answer.failed.get(str(index))
            if failure is None:
                log("SNS answered for neither success nor failure of job event %s seq %d", event.job_id, event.seq)
                retry.append(event)
            elif failure.sender_fault:
                logger.error("SNS refused job event %s: %s", event.job_id, failure.message)
                refused.append(event)
            else:
                log("SNS failed job event %s: %s %s", event.job_id, failure.code, failure.message)
                retry.append(event)
        return retry, refused

    def send_batch(self, *, topic_arn: str, entries: Sequence[BatchEntry]) -> BatchAnswer:
        """One PublishBatch call, as is: no retry. Raises ``PublishFailed``."""
        if self._credentials is None:
            raise PublishFailed("NoCredentials", "no AWS credentials were found", status=None)
        body = publish_batch_body(topic_arn, entries)
        request = AWSRequest(method="POST", url=self._url, data=body, headers={"Content-Type": CONTENT_TYPE})
        SigV4Auth(self._credentials.get_frozen_credentials(), "sns", self._region).add_auth(request)
        try:
            response = self._pool.request("POST", self._url, body=body, headers=dict(request.headers.items()))
        except urllib3.exceptions.HTTPError as error:
            raise PublishFailed("Unreachable", str(error), status=None) from error
        return response_parse(response.status, response.data)
