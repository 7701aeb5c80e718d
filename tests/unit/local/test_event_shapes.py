"""The local gateways build events with the same keys as the real AWS events in tests/events, so a
handler that works locally meets no surprise shape on AWS (and the other way round)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.local import events

FIXTURES = Path(__file__).resolve().parents[2] / "events"


def real(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def ws_context(event_type: str, route_key: str) -> dict[str, Any]:
    return events.ws_request_context(
        route_key=route_key,
        event_type=event_type,
        connection_id="L0SM9cOFvHcCIhw=",
        connected_at_ms=1,
        stage="local",
        domain="127.0.0.1",
        api_id="local",
        source_ip="127.0.0.1",
        user_agent="test",
    )


def built() -> dict[str, dict[str, Any]]:
    return {
        "apigw_rest_v1.json": events.rest_v1_event(
            method="GET",
            path="/api/health/",
            query=[],
            headers=[("Host", "127.0.0.1")],
            body=b"",
            source_ip="127.0.0.1",
            stage="local",
            api_id="local",
            binary_support=True,
        ),
        "ws_connect.json": events.ws_connect_event(
            ws_context("CONNECT", "$connect"), headers=[("Host", "127.0.0.1")], query=[("ticket", "t")]
        ),
        "ws_message.json": events.ws_message_event(ws_context("MESSAGE", "ping"), body='{"action": "ping"}'),
        "ws_disconnect.json": events.ws_disconnect_event(
            ws_context("DISCONNECT", "$disconnect"), status_code=1000, reason="Client-side close frame"
        ),
    }


@pytest.mark.parametrize("fixture", sorted(built()))
def test_local_events_have_the_real_events_keys(fixture: str) -> None:
    expected, ours = real(fixture), built()[fixture]
    assert set(ours) == set(expected)
    assert set(ours["requestContext"]) >= set(expected["requestContext"]) - {"domainPrefix"}


def test_local_message_events_carry_no_headers_as_on_aws() -> None:
    assert "headers" not in built()["ws_message.json"]


def test_local_sqs_records_have_the_real_records_keys() -> None:
    expected = real("sqs_job_batch.json")["Records"][0]
    message = {
        "MessageId": "m",
        "ReceiptHandle": "r",
        "Body": "{}",
        "MD5OfBody": "x",
        "MD5OfMessageAttributes": "y",
        "MessageAttributes": {"task": {"DataType": "String", "StringValue": "word_count"}},
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1",
            "SenderId": "s",
            "ApproximateFirstReceiveTimestamp": "1",
        },
    }
    record = events.sqs_record(message, queue_arn="arn:aws:sqs:us-east-1:000000000000:q", region="us-east-1")
    assert set(record) == set(expected)
    assert set(record["attributes"]) >= {"ApproximateReceiveCount", "SentTimestamp"}
    assert record["messageAttributes"]["task"] == expected["messageAttributes"]["task"]
