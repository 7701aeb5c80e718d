"""The push consumer: SQS batch of job events → every subscribed connection of the owner."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

from contracts.user_event import UserEvent
from contracts.ws_protocol import EventPush
from functions.websocket import push
from functions.websocket.connections import StoreUnavailable
from functions.websocket.management import MAX_MESSAGE_BYTES
from tests.aws import aws_client
from tests.functional.websocket.builders import (
    LambdaContextStub,
    connect_event,
    job_event,
    message_event,
    mint,
    new_connection_id,
    sqs_event,
)
from tests.functional.websocket.conftest import API_BASE_URL, connected, keys, subscribed, ws
from tests.functional.websocket.management_fake import ManagementFake


def run(*bodies: str) -> tuple[dict[str, Any], list[str]]:
    event = sqs_event(bodies=list(bodies))
    answer: dict[str, Any] = push.handler(event, LambdaContextStub())  # type: ignore[arg-type]
    return answer, [record["messageId"] for record in event["Records"]]


def pushed(management: ManagementFake, connection_id: str) -> list[EventPush]:
    return [EventPush.model_validate(frame) for frame in management.frames(connection_id)]


def test_the_fixture_record_reaches_the_owners_connection(management: ManagementFake) -> None:
    connection_id = subscribed(user="1", topics=["user:1"])
    event = json.loads((__import__("pathlib").Path(__file__).parents[2] / "events/ws_push_sqs.json").read_text())
    management.received.clear()

    answer = push.handler(event, LambdaContextStub())

    assert answer == {"batchItemFailures": []}
    [frame] = pushed(management, connection_id)
    assert frame.topic == "user:1"
    assert frame.event.seq == 3


def test_user_and_job_subscribers_get_the_event_once_each(management: ManagementFake) -> None:
    event = job_event(owner="1", seq=4)
    job_topic = f"job:{event.job_id}"
    on_user = subscribed(user="1", topics=["user:1"])
    on_job = subscribed(user="1", topics=[job_topic])
    on_both = subscribed(user="1", topics=["user:1", job_topic])
    management.received.clear()

    answer, _ = run(event.model_dump_json())

    assert answer == {"batchItemFailures": []}
    assert [frame.topic for frame in pushed(management, on_user)] == ["user:1"]
    assert [frame.topic for frame in pushed(management, on_job)] == [job_topic]
    assert [frame.topic for frame in pushed(management, on_both)] == [job_topic]
    assert all(pushed(management, cid)[0].event == event for cid in (on_user, on_job, on_both))


def test_user_a_never_receives_user_b_events(management: ManagementFake) -> None:
    alice = subscribed(user="1", topics=["user:1"])
    bob = subscribed(user="2", topics=["user:2"])
    # Bob asks for Alice's topic with his own ticket: refused, so nothing of Alice's can reach him.
    ws(message_event(connection_id=bob, body={"action": "subscribe", "topic": "user:1"}))
    assert management.frames(bob)[-1]["code"] == "topic_not_granted"
    management.received.clear()

    answer, _ = run(job_event(owner="1", seq=1).model_dump_json(), job_event(owner="2", seq=1).model_dump_json())

    assert answer == {"batchItemFailures": []}
    assert [frame.event.owner for frame in pushed(management, alice)] == ["1"]
    assert [frame.event.owner for frame in pushed(management, bob)] == ["2"]


def test_a_subscription_row_of_another_user_is_never_served(table: str, management: ManagementFake) -> None:
    bob = connected(user="2")
    # A row that could only exist through a bug: Bob's connection under Alice's topic.
    far = str(int(time.time()) + 3600)
    aws_client("dynamodb").put_item(
        TableName=table,
        Item={"pk": {"S": "topic#user:1"}, "sk": {"S": f"conn#{bob}"}, "user": {"S": "2"}, "expires_at": {"N": far}},
    )

    answer, _ = run(job_event(owner="1").model_dump_json())

    assert answer == {"batchItemFailures": []}
    assert management.frames(bob) == []


def test_a_gone_connection_is_deleted_and_the_others_still_served(table: str, management: ManagementFake) -> None:
    gone = subscribed(user="1", topics=["user:1"])
    live = [subscribed(user="1", topics=["user:1"]) for _ in range(3)]
    management.script.gone.add(gone)
    management.received.clear()

    answer, _ = run(job_event(owner="1", seq=9).model_dump_json())

    assert answer == {"batchItemFailures": []}
    assert all([frame.event.seq for frame in pushed(management, cid)] == [9] for cid in live)
    assert not any(gone in pk or gone in sk for pk, sk in keys(table))
    assert all((f"conn#{cid}", "meta") in keys(table) for cid in live)


def test_throttling_is_retried(management: ManagementFake) -> None:
    connection_id = subscribed(user="1", topics=["user:1"])
    management.received.clear()
    management.script.throttle[connection_id] = 2
    management.script.fail[connection_id] = 1

    answer, _ = run(job_event(owner="1", seq=5).model_dump_json())

    assert answer == {"batchItemFailures": []}
    assert [frame.event.seq for frame in pushed(management, connection_id)] == [5]


def test_persistent_throttling_fails_only_that_record(management: ManagementFake) -> None:
    throttled = subscribed(user="1", topics=["user:1"])
    other = subscribed(user="2", topics=["user:2"])
    management.received.clear()
    management.script.throttle[throttled] = 1_000

    answer, message_ids = run(job_event(owner="1").model_dump_json(), job_event(owner="2").model_dump_json())

    assert answer == {"batchItemFailures": [{"itemIdentifier": message_ids[0]}]}
    assert len(pushed(management, other)) == 1
    assert management.attempts[throttled] > 1


def test_an_oversized_result_is_replaced_by_a_link(management: ManagementFake) -> None:
    connection_id = subscribed(user="1", topics=["user:1"])
    management.received.clear()
    event = job_event(owner="1", seq=7, result={"rows": ["x" * 1000] * 200})
    assert len(event.model_dump_json()) > MAX_MESSAGE_BYTES

    answer, _ = run(event.model_dump_json())

    assert answer == {"batchItemFailures": []}
    [raw] = management.received[connection_id]
    assert len(raw) <= MAX_MESSAGE_BYTES
    [frame] = pushed(management, connection_id)
    assert frame.event.result is None
    assert frame.event.result_url == f"{API_BASE_URL}/api/jobs/{event.job_id}/"
    assert (frame.event.seq, frame.event.status) == (7, "succeeded")


def test_a_redelivered_event_carries_the_same_seq(management: ManagementFake) -> None:
    connection_id = subscribed(user="1", topics=["user:1"])
    management.received.clear()
    body = job_event(owner="1", seq=12).model_dump_json()

    run(body)
    run(body)  # at-least-once: SQS delivers it again

    frames = pushed(management, connection_id)
    assert [frame.event.seq for frame in frames] == [12, 12]
    assert frames[0] == frames[1]


def test_a_record_that_is_not_a_job_event_fails_alone(management: ManagementFake) -> None:
    connection_id = subscribed(user="1", topics=["user:1"])
    management.received.clear()

    answer, message_ids = run("not json", json.dumps({"job_id": "nope"}), job_event(owner="1").model_dump_json())

    assert answer == {"batchItemFailures": [{"itemIdentifier": message_ids[0]}, {"itemIdentifier": message_ids[1]}]}
    assert len(pushed(management, connection_id)) == 1


def test_an_sns_envelope_is_unwrapped(management: ManagementFake) -> None:
    connection_id = subscribed(user="1", topics=["user:1"])
    management.received.clear()
    event = job_event(owner="1", seq=2)
    envelope = {"Type": "Notification", "MessageId": str(uuid.uuid4()), "Message": event.model_dump_json()}

    answer, _ = run(json.dumps(envelope))

    assert answer == {"batchItemFailures": []}
    assert [frame.event for frame in pushed(management, connection_id)] == [event]


def test_no_time_left_sends_records_back_untouched(management: ManagementFake) -> None:
    connection_id = subscribed(user="1", topics=["user:1"])
    management.received.clear()
    event = sqs_event(bodies=[job_event(owner="1").model_dump_json()])

    answer = push.handler(event, LambdaContextStub(remaining_ms=1_000))

    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert management.frames(connection_id) == []


def test_a_batch_reads_each_topic_once(management: ManagementFake, monkeypatch: Any) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    watcher = subscribed(user="1", topics=["user:1"])
    management.received.clear()
    store = push.deps.store()
    reads: list[str] = []
    original = store.topic_subscribers
    monkeypatch.setattr(store, "topic_subscribers", lambda *, topic: reads.append(topic) or original(topic=topic))

    answer, _ = run(
        *(job_event(owner="1", job_id=job, seq=seq).model_dump_json() for job in (first, second) for seq in (1, 2, 3))
    )

    assert answer == {"batchItemFailures": []}
    assert sorted(reads) == sorted(["user:1", f"job:{first}", f"job:{second}"])
    frames = pushed(management, watcher)
    # Each job's events in seq order; the two jobs' are pushed concurrently.
    for job in (first, second):
        assert [frame.event.seq for frame in frames if frame.event.job_id == job] == [1, 2, 3]


def test_an_unreadable_topic_sends_back_only_its_events(management: ManagementFake, monkeypatch: Any) -> None:
    alice = subscribed(user="1", topics=["user:1"])
    subscribed(user="2", topics=["user:2"])
    management.received.clear()
    store = push.deps.store()
    original = store.topic_subscribers

    def flaky(*, topic: str) -> Any:
        if topic == "user:2":
            raise StoreUnavailable("throttled")
        return original(topic=topic)

    monkeypatch.setattr(store, "topic_subscribers", flaky)

    answer, ids = run(job_event(owner="1", seq=1).model_dump_json(), job_event(owner="2", seq=1).model_dump_json())

    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    assert [frame.event.owner for frame in pushed(management, alice)] == ["1"]


def _deactivated(user: str) -> str:
    return UserEvent(type="user.deactivated", user=user, at=dt.datetime.now(dt.UTC)).model_dump_json()


def test_a_deactivated_users_connections_are_closed_and_forgotten(table: str, management: ManagementFake) -> None:
    mine = [connected(user="5"), subscribed(user="5", topics=["user:5"])]
    other = connected(user="6")

    answer, _ = run(_deactivated("5"))

    assert answer == {"batchItemFailures": []}
    assert sorted(management.deleted) == sorted(mine)
    left = keys(table)
    assert not any(cid in pk or cid in sk for cid in mine for pk, sk in left)
    assert (f"conn#{other}", "meta") in left
    assert ("block#user#5", "block") in left
    # A ticket minted before the deactivation cannot open a new connection now.
    refused = ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="5")))
    assert json.loads(refused["body"])["error"]["code"] == "user_inactive"
    assert ws(connect_event(connection_id=new_connection_id(), ticket=mint(user="6")))["statusCode"] == 200


def test_closing_a_deactivated_users_connection_is_retried_when_it_fails(management: ManagementFake) -> None:
    connection_id = connected(user="5")
    management.script.fail[connection_id] = 100  # the management API keeps answering 500

    answer, message_ids = run(_deactivated("5"))

    assert answer == {"batchItemFailures": [{"itemIdentifier": message_ids[0]}]}
    assert management.deleted == []


def test_a_malformed_user_event_fails_alone(management: ManagementFake) -> None:
    connection_id = subscribed(user="1", topics=["user:1"])
    management.received.clear()

    answer, message_ids = run(json.dumps({"type": "user.deactivated"}), job_event(owner="1").model_dump_json())

    assert answer == {"batchItemFailures": [{"itemIdentifier": message_ids[0]}]}
    assert len(pushed(management, connection_id)) == 1


def test_the_push_role_allows_exactly_the_table_operations_the_push_path_makes(
    table: str, management: ManagementFake, monkeypatch: Any
) -> None:
    """Issue 17, finding 8: serverless.yml's PushRole names each DynamoDB action a push uses (read
    the subscribers, delete a gone connection, block a deactivated user) and nothing else."""
    from functions.websocket.connections import ConnectionStore
    from infra.check.config import load_serverless, resolve_serverless

    gone = subscribed(user="1", topics=["user:1", f"job:{uuid.uuid4()}"])
    live = subscribed(user="1", topics=["user:1"])
    management.script.gone.add(gone)
    connected(user="2")  # deactivated below
    management.received.clear()
    operations: set[str] = set()
    original = ConnectionStore._request

    def recording(store: ConnectionStore, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        operations.add(f"dynamodb:{operation}")
        return original(store, operation, payload)

    monkeypatch.setattr(ConnectionStore, "_request", recording)
    answer, _ = run(job_event(owner="1", seq=3).model_dump_json())
    assert answer == {"batchItemFailures": []}
    assert [frame.event.seq for frame in pushed(management, live)] == [3]
    assert run(_deactivated("2"))[0] == {"batchItemFailures": []}

    role = resolve_serverless(load_serverless(), stage="dev").resources["PushRole"]
    granted = {
        action
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        if action.startswith("dynamodb:")
    }
    assert operations == granted == {"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:PutItem"}
