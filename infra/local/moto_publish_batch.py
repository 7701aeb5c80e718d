"""SNS ``PublishBatch`` answered without moto's generic request machinery (the local stack only).

Every job event leaves the worker, the API and the sweeps as a PublishBatch. Of moto's CPU on each
(py-spy, the worker benchmark), its SNS backend took hardly any: the rest went to Flask, moto's
botocore-model-driven parser of the query string (ten entries with two attributes each are dozens of
parameters, each matched against the model), its XML serializer and its dispatch; docs/benchmarks.md
has moto's CPU per PublishBatch. This answers the
plain request our code sends, a topic's ARN and 1 to 10 entries of ``Id``, ``Message`` and string
or number attributes, by calling the same backend method moto's handler calls
(``SNSBackend.publish_batch``, which also delivers to the topic's subscribers) and writing the same
XML. Anything else, including every request moto would refuse (unknown or FIFO topic, repeated
ids, bad attributes), goes to moto unchanged, before anything was published.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

_PREFIX = "PublishBatchRequestEntries.member."
_TOP_LEVEL = {"Action", "Version", "TopicArn"}
_ATTRIBUTE_FIELDS = {"Name", "Value.DataType", "Value.StringValue"}
_BATCH_LIMIT = 10
_NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"

Answer = tuple[str, list[tuple[str, str]], bytes]


def entries_parse(params: list[tuple[str, str]]) -> tuple[str, list[dict[str, Any]]] | None:
    """(topic ARN, entries as moto's parser gives them) for a plain PublishBatch; None otherwise."""
    top: dict[str, str] = {}
    members: dict[int, dict[str, Any]] = {}
    for key, value in params:
        if not key.startswith(_PREFIX):
            if key not in _TOP_LEVEL or key in top:
                return None
            top[key] = value
            continue
        index, _, field = key[len(_PREFIX) :].partition(".")
        if not index.isdigit():
            return None
        member = members.setdefault(int(index), {"attributes": {}})
        if field in ("Id", "Message") and field not in member:
            member[field] = value
        elif field.startswith("MessageAttributes.entry."):
            number, _, attribute_field = field[len("MessageAttributes.entry.") :].partition(".")
            if not number.isdigit() or attribute_field not in _ATTRIBUTE_FIELDS:
                return None
            member["attributes"].setdefault(int(number), {})[attribute_field] = value
        else:
            return None  # Subject, MessageGroupId, BinaryValue...: moto's own path
    if top.get("Action") != "PublishBatch" or not top.get("TopicArn"):
        return None
    if sorted(members) != list(range(1, len(members) + 1)) or not 1 <= len(members) <= _BATCH_LIMIT:
        return None
    entries = []
    for position in range(1, len(members) + 1):
        member = members[position]
        if "Id" not in member or "Message" not in member:
            return None
        entry: dict[str, Any] = {"Id": member["Id"], "Message": member["Message"]}
        attributes = member["attributes"]
        if attributes:
            if sorted(attributes) != list(range(1, len(attributes) + 1)):
                return None
            if any(set(a) != _ATTRIBUTE_FIELDS for a in attributes.values()):
                return None
            entry["MessageAttributes"] = {
                a["Name"]: {"DataType": a["Value.DataType"], "StringValue": a["Value.StringValue"]}
                for a in (attributes[n] for n in sorted(attributes))
            }
            if len(entry["MessageAttributes"]) != len(attributes):
                return None  # one name twice
        entries.append(entry)
    if len({entry["Id"] for entry in entries}) != len(entries):
        return None
    return top["TopicArn"], entries


def _members(rows: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> str:
    parts = []
    for row in rows:
        inner = "".join(
            f"<{name}>{_text(row[name])}</{name}>" for name in fields if name in row and row[name] is not None
        )
        parts.append(f"<member>{inner}</member>")
    return "".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def response_xml(successful: list[dict[str, Any]], failed: list[dict[str, Any]], request_id: str) -> bytes:
    """moto's answer to a PublishBatch, element for element."""
    ok = f"<Successful>{_members(successful, ('Id', 'MessageId'))}</Successful>" if successful else "<Successful/>"
    bad = f"<Failed>{_members(failed, ('Id', 'Code', 'Message', 'SenderFault'))}</Failed>" if failed else "<Failed/>"
    return (
        f'<PublishBatchResponse xmlns="{_NAMESPACE}"><PublishBatchResult>{ok}{bad}</PublishBatchResult>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></PublishBatchResponse>"
    ).encode()


def _request_scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(access key, region) of an SNS request signed with SigV4, when moto would take the region
    from the signature too (not from the host or the user agent); None otherwise."""
    from moto.core.responses import BaseResponse

    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if "AWS4" not in authorization or "Credential=" not in authorization:
        return None
    scope = authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")
    if len(scope) != 5 or scope[3] != "sns":
        return None
    if BaseResponse.region_regex.search(
        environ.get("HTTP_HOST", "")
    ) or BaseResponse.region_from_useragent_regex.search(environ.get("HTTP_USER_AGENT", "")):
        return None
    return scope[0], scope[2]


def publish_batch_answer(environ: dict[str, Any]) -> Answer | None:
    """Publishes and answers a plain PublishBatch; None (the request untouched, its body still
    readable) when moto's own path must take it."""
    if (
        environ.get("REQUEST_METHOD") != "POST"
        or "MOTO_ACCOUNT_ID" in os.environ
        or "HTTP_X_MOTO_ACCOUNT_ID" in environ
    ):
        return None
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return None
    if environ.get("HTTP_CONTENT_ENCODING") or not str(environ.get("CONTENT_LENGTH") or "").isdigit():
        return None  # compressed or chunked: moto's own path
    scope = _request_scope(environ)
    if scope is None:
        return None
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    environ["wsgi.input"] = io.BytesIO(body)  # for moto, if it takes the request after all
    try:
        parsed = entries_parse(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        return None
    if parsed is None:
        return None
    topic_arn, entries = parsed

    from moto.core.exceptions import ServiceException
    from moto.iam.models import get_account_id_from
    from moto.sns.models import sns_backends
    from moto.sns.responses import SNSResponse

    access_key, region = scope
    backend = sns_backends[get_account_id_from(access_key)][region]
    topic = backend.topics.get(topic_arn)
    if topic is None or topic.fifo_topic:
        return None
    try:
        for entry in entries:
            if "MessageAttributes" in entry:
                # moto's own validation and renaming (DataType -> Type...); it does not use self.
                entry["MessageAttributes"] = SNSResponse._transform_message_attributes(
                    None,  # type: ignore[arg-type]
                    entry["MessageAttributes"],
                )
    except ServiceException:
        return None  # nothing published yet: moto answers the error
    successful, failed = backend.publish_batch(topic_arn=topic_arn, publish_batch_request_entries=entries)
    request_id = uuid.uuid4().hex
    body_out = response_xml(successful, failed, request_id)
    headers = [
        ("Content-Type", "text/xml"),
        ("x-amzn-requestid", request_id),
        ("Content-Length", str(len(body_out))),
        ("Access-Control-Allow-Origin", "*"),
    ]
    return "200 OK", headers, body_out


def install() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original_call: Callable[..., Any] = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        answer = publish_batch_answer(environ)
        if answer is None:
            return original_call(self, environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]
