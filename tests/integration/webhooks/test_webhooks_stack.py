"""The webhooks service (TypeScript, functions/webhooks) through the local stack, as `make run` runs
it: endpoints made with Django-issued access tokens at the HTTP API, job events from SNS through
its own filtered queue, and signed deliveries that receivers on 127.0.0.1 verify with PyPI's
`standardwebhooks`."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infra.local.moto_server import FAKE_CREDENTIALS
from infra.local.setup import local_secrets
from infra.local.stack import LocalStack
from infra.webhook_receivers import Receiver, serving
from tests.integration.local_stack.client import Api, json_call
from tests.token_forgeries import hs256_with_public_key, resigned

pytestmark = pytest.mark.slow

# The waits between attempts: three attempts, 1 s then 4 s apart, each given 1 s (not 5) to answer,
# so a receiver that never answers is seen through in seconds. Job events carry results up to
# 8 KiB (larger ones travel as result_url).
RETRY_SCHEDULE = "1,4"
ATTEMPT_TIMEOUT_SECONDS = 1
ATTEMPTS = 3
EVENT_RESULT_MAX_BYTES = 8 * 1024
WAIT = 60.0


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    environment = {
        "WEBHOOKS_RETRY_SCHEDULE": RETRY_SCHEDULE,
        "WEBHOOKS_ATTEMPT_TIMEOUT_SECONDS": str(ATTEMPT_TIMEOUT_SECONDS),
        "JOB_EVENT_RESULT_MAX_BYTES": str(EVENT_RESULT_MAX_BYTES),
    }
    with LocalStack(environment=environment) as running:
        yield running


class Webhooks:
    """The webhooks HTTP API as a client calls it: a Django access token for audience `webhooks`."""

    def __init__(self, stack: LocalStack, api: Api) -> None:
        self.base = stack.webhooks_url
        status, body = api.call("POST", "/api/auth/token/", {"audience": "webhooks"})
        assert status == 200, body
        self.token = str(body["access_token"])

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        bearer = self.token if token is None else token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return json_call(self.base + path, method, headers=headers, body=body)

    def endpoint(self, receiver: Receiver, event_types: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"url": receiver.url, "description": "tests"}
        if event_types is not None:
            body["event_types"] = event_types
        status, created = self.call("POST", "/webhooks/endpoints", body)
        assert status == 201, created
        assert str(created["secret"]).startswith("whsec_")
        receiver.secret = str(created["secret"])
        return dict(created)

    def deliveries(self, endpoint_id: str) -> list[dict[str, Any]]:
        status, body = self.call("GET", f"/webhooks/endpoints/{endpoint_id}/deliveries")
        assert status == 200, body
        return list(body["deliveries"])

    def wait_for_delivery(self, endpoint_id: str, status: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:  # bounded in time
            found = [d for d in self.deliveries(endpoint_id) if d["status"] == status]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"no {status} delivery: {self.deliveries(endpoint_id)}")


def _user_api(stack: LocalStack) -> Api:
    username = f"hooks-{uuid.uuid4().hex[:8]}"
    stack.create_user(username, "a-long-enough-password")
    return Api(stack, stack.create_token(username=username))


def _run_job(api: Api, text: str, top: int = 10) -> str:
    status, job = api.call("POST", "/api/jobs/", {"task": "word_count", "params": {"text": text, "top": top}})
    assert status == 202, job
    return str(job["id"])


def test_a_job_end_reaches_its_owners_endpoint_once_signed_with_its_result(stack: LocalStack) -> None:
    api = _user_api(stack)
    hooks = Webhooks(stack, api)
    with serving(Receiver()) as receiver:
        endpoint = hooks.endpoint(receiver)
        job_id = _run_job(api, "to be or not to be")
        [delivery] = receiver.wait_for(1)
        assert delivery.verified, delivery.headers
        assert delivery.headers["webhook-id"].startswith("msg_")
        assert delivery.payload["type"] == "job.succeeded"
        assert delivery.payload["data"]["job_id"] == job_id
        assert delivery.payload["data"]["result"]["words"] == 6
        recorded = hooks.wait_for_delivery(endpoint["id"], "succeeded")
        assert recorded["id"] == delivery.headers["webhook-id"]
        assert recorded["attempts"][-1]["status_code"] == 200
        time.sleep(3)  # the job's other events are not terminal: the filter policy keeps them out
        assert len(receiver.deliveries) == 1


def test_a_duplicated_sqs_message_creates_no_second_delivery(stack: LocalStack) -> None:
    api = _user_api(stack)
    hooks = Webhooks(stack, api)
    with serving(Receiver()) as receiver:
        endpoint = hooks.endpoint(receiver)
        _run_job(api, "one two three")
        [first] = receiver.wait_for(1)
        event = first.payload["data"]
        # The same job event again, as SNS delivers it to the service's queue (raw message delivery).
        sqs = boto3.client("sqs", endpoint_url=stack.aws_endpoint, region_name="us-east-1", **_credentials())
        queue_url = sqs.get_queue_url(QueueName="polyglot-local-webhooks")["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
        time.sleep(4)
        assert len(receiver.deliveries) == 1
        deliveries = hooks.deliveries(endpoint["id"])
        assert [d["id"] for d in deliveries] == [first.headers["webhook-id"]]


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    }


def test_a_failing_receiver_gets_retries_with_growing_delays_and_the_same_id(stack: LocalStack) -> None:
    api = _user_api(stack)
    hooks = Webhooks(stack, api)
    with serving(Receiver(answers=[500, 500, 200])) as receiver:
        endpoint = hooks.endpoint(receiver)
        _run_job(api, "retry me")
        deliveries = receiver.wait_for(3)
        assert all(d.verified for d in deliveries)
        assert len({d.headers["webhook-id"] for d in deliveries}) == 1
        first_gap = deliveries[1].at - deliveries[0].at
        second_gap = deliveries[2].at - deliveries[1].at
        assert 0.9 <= first_gap < second_gap, (first_gap, second_gap)
        recorded = hooks.wait_for_delivery(endpoint["id"], "succeeded")
        assert [attempt["status_code"] for attempt in recorded["attempts"]] == [500, 500, 200]
        assert recorded["attempt_count"] == 3
        assert recorded["next_attempt_at"] is None


def test_a_receiver_that_never_answers_sees_the_schedule_end_and_its_endpoint_failing(stack: LocalStack) -> None:
    api = _user_api(stack)
    hooks = Webhooks(stack, api)
    with serving(Receiver(answers=[0])) as receiver:
        endpoint = hooks.endpoint(receiver)
        _run_job(api, "nobody listens")
        receiver.wait_for(ATTEMPTS)
        failed = hooks.wait_for_delivery(endpoint["id"], "failed")
        assert failed["attempt_count"] == ATTEMPTS
        assert {attempt["error"] for attempt in failed["attempts"]} == {"timeout"}
        assert failed["next_attempt_at"] is None
        status, listed = hooks.call("GET", "/webhooks/endpoints")
        assert status == 200
        [mine] = [e for e in listed["endpoints"] if e["id"] == endpoint["id"]]
        assert mine["status"] == "failing"
        time.sleep(5)  # past where another attempt would be
        assert len(receiver.deliveries) == ATTEMPTS


def test_no_endpoint_gets_another_users_events_or_records(stack: LocalStack) -> None:
    alice, bob = _user_api(stack), _user_api(stack)
    alice_hooks, bob_hooks = Webhooks(stack, alice), Webhooks(stack, bob)
    with serving(Receiver()) as alice_receiver, serving(Receiver()) as bob_receiver:
        alice_endpoint = alice_hooks.endpoint(alice_receiver)
        bob_hooks.endpoint(bob_receiver)
        _run_job(alice, "only for alice")
        [delivery] = alice_receiver.wait_for(1)
        time.sleep(2)
        assert bob_receiver.deliveries == []
        # Bob cannot see or act on Alice's endpoint or delivery: 404, as if they did not exist.
        for method, path in (
            ("GET", f"/webhooks/endpoints/{alice_endpoint['id']}/deliveries"),
            ("POST", f"/webhooks/endpoints/{alice_endpoint['id']}/test"),
            ("DELETE", f"/webhooks/endpoints/{alice_endpoint['id']}"),
            ("POST", f"/webhooks/deliveries/{delivery.headers['webhook-id']}/retry"),
        ):
            status, body = bob_hooks.call(method, path)
            assert (status, body["error"]["code"]) == (404, "not_found"), (method, path, body)
        status, listed = bob_hooks.call("GET", "/webhooks/endpoints")
        assert alice_endpoint["id"] not in {e["id"] for e in listed["endpoints"]}


def test_a_result_too_large_for_the_event_is_fetched_from_django_and_delivered(stack: LocalStack) -> None:
    api = _user_api(stack)
    hooks = Webhooks(stack, api)
    # A hundred distinct long words: the result (the top 100) is over the event's limit.
    words = [f"{uuid.uuid4().hex * 3}" for _ in range(100)]
    with serving(Receiver()) as receiver:
        hooks.endpoint(receiver)
        job_id = _run_job(api, " ".join(words), top=100)
        [delivery] = receiver.wait_for(1)
        assert delivery.verified
        data = delivery.payload["data"]
        assert data["job_id"] == job_id
        assert len(json.dumps(data["result"])) > EVENT_RESULT_MAX_BYTES
        assert data["result"]["distinct"] == 100
        assert not data.get("result_url")
    assert "GET /api/jobs/" in stack.logs()  # fetched over HTTP with the service's own credential


def test_send_test_delivers_a_signed_ping(stack: LocalStack) -> None:
    hooks = Webhooks(stack, _user_api(stack))
    with serving(Receiver()) as receiver:
        endpoint = hooks.endpoint(receiver)
        status, body = hooks.call("POST", f"/webhooks/endpoints/{endpoint['id']}/test")
        assert status == 202, body
        [delivery] = receiver.wait_for(1)
        assert delivery.verified
        assert delivery.payload["type"] == "webhook.test"
        assert delivery.headers["webhook-id"] == body["delivery"]["id"]


def _stack_key() -> Any:
    return serialization.load_pem_private_key(local_secrets()["AUTH_SIGNING_KEY"].encode(), password=None)


def test_tokens_it_must_not_trust_are_refused_with_a_code(stack: LocalStack) -> None:
    api = _user_api(stack)
    hooks = Webhooks(stack, api)
    now = int(time.time())
    stranger = ec.generate_private_key(ec.SECP256R1())
    public_key = _stack_key().public_key()
    cases: dict[str, set[str]] = {
        "": {"not_authenticated"},
        "not-a-token": {"token_malformed"},
        resigned(hooks.token, key=_stack_key(), iat=now - 900, exp=now - 600): {"token_expired"},
        resigned(hooks.token, key=_stack_key(), aud="ws"): {"token_wrong_audience"},
        api.ticket()["ticket"]: {"token_wrong_type"},  # a WebSocket ticket is no access token
        resigned(hooks.token, key=stranger, header={"kid": "someone-elses-key"}): {"token_unknown_key"},
        # The public key as an HMAC secret: refused before any signature check, or by it.
        hs256_with_public_key(hooks.token, public_key): {"token_malformed", "token_bad_signature"},
    }
    for token, codes in cases.items():
        status, body = hooks.call("GET", "/webhooks/endpoints", token=token)
        assert status == 401, (codes, body)
        assert body["error"]["code"] in codes, body
    assert hooks.call("GET", "/webhooks/endpoints")[0] == 200


def test_the_page_origin_gets_cors_and_others_do_not(stack: LocalStack) -> None:
    def preflight(origin: str) -> dict[str, str]:
        request = urllib.request.Request(
            stack.webhooks_url + "/webhooks/endpoints",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return {name.lower(): value for name, value in response.headers.items()}

    allowed = preflight(stack.http_url)
    assert allowed["access-control-allow-origin"] == stack.http_url
    assert "authorization" in allowed["access-control-allow-headers"]
    # API Gateway answers a foreign page's preflight without CORS headers; the local stack's guard
    # refuses such a page outright. Either way, its browser makes no call.
    with pytest.raises(urllib.error.HTTPError) as refused:
        preflight("https://elsewhere.example")
    assert refused.value.code == 403


def test_progress_events_reach_the_queue_only_while_an_endpoint_asks_for_them(stack: LocalStack) -> None:
    """The subscription's filter policy (terminal events in serverless.yml) gains job.progress with the
    first endpoint that wants it, and loses it with the last one."""
    sns = boto3.client("sns", endpoint_url=stack.aws_endpoint, region_name="us-east-1", **_credentials())
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith("-job-events"))
    [subscription] = [
        s["SubscriptionArn"]
        for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        if s["Endpoint"].endswith(":polyglot-local-webhooks")
    ]

    def filtered_types() -> set[str]:
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
        return set(json.loads(attributes["FilterPolicy"])["type"])

    terminal = {"job.succeeded", "job.failed", "job.cancelled"}
    assert filtered_types() == terminal
    api = _user_api(stack)
    hooks = Webhooks(stack, api)
    with serving(Receiver()) as receiver:
        endpoint = hooks.endpoint(receiver, event_types=["job.progress", "job.succeeded"])
        assert "job.progress" in filtered_types()
        status, job = api.call("POST", "/api/jobs/", {"task": "countdown", "params": {"seconds": 2}})
        assert status == 202, job
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:  # bounded: until the terminal delivery
            if any(d.payload and d.payload["type"] == "job.succeeded" for d in receiver.deliveries):
                break
            time.sleep(0.1)
        types = [d.payload["type"] for d in receiver.deliveries if d.verified]
        assert "job.progress" in types
        assert "job.succeeded" in types
        assert hooks.call("DELETE", f"/webhooks/endpoints/{endpoint['id']}")[0] == 204
    assert filtered_types() == terminal
