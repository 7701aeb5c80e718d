"""User ids are strings: a user model keyed by UUID (or any key) connects, subscribes and is pushed to."""

from __future__ import annotations

import uuid

from contracts.ws_protocol import EventPush
from functions.websocket import push
from tests.functional.websocket.builders import (
    LambdaContextStub,
    connect_event,
    job_event,
    mint,
    new_connection_id,
    sqs_event,
)
from tests.functional.websocket.conftest import subscribed, ws
from tests.functional.websocket.management_fake import ManagementFake

ALICE = str(uuid.UUID("5f0c1f7e-2b7a-4d8e-9c61-0d3f2a1b4c5e"))
BOB = str(uuid.UUID("a3e9b2c4-7d61-4f0a-8e25-6c1b9d0f3a72"))


def test_a_uuid_users_own_topic_is_subscribed_and_gets_that_users_events_only(management: ManagementFake) -> None:
    alice = subscribed(user=ALICE, topics=[f"user:{ALICE}"])
    bob = subscribed(user=BOB, topics=[f"user:{BOB}"])
    assert management.frames(alice) == [{"type": "subscribed", "topic": f"user:{ALICE}"}]
    management.received.clear()

    answer = push.handler(sqs_event(bodies=[job_event(owner=ALICE, seq=2).model_dump_json()]), LambdaContextStub())

    assert answer == {"batchItemFailures": []}
    [frame] = [EventPush.model_validate(frame) for frame in management.frames(alice)]
    assert (frame.topic, frame.event.owner) == (f"user:{ALICE}", ALICE)
    assert management.frames(bob) == []


def test_a_ticket_granting_another_uuid_users_topic_is_refused() -> None:
    answer = ws(connect_event(connection_id=new_connection_id(), ticket=mint(user=ALICE, topics=[f"user:{BOB}"])))
    assert answer["statusCode"] == 403
    assert '"ticket_topics_invalid"' in answer["body"]


def test_a_user_id_no_topic_can_name_makes_the_ticket_malformed() -> None:
    for user in ("has space", "colon:inside", "x" * 60):
        answer = ws(connect_event(connection_id=new_connection_id(), ticket=mint(user=user)))
        assert answer["statusCode"] == 401, user
        assert '"ticket_malformed"' in answer["body"]
