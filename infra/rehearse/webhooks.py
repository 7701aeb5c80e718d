"""A webhook delivered through the deployed stack to a receiver on 127.0.0.1 that verifies it.

A client's view, in the order docs/webhooks.md gives: an access token for audience ``webhooks``
from Django (``POST /api/auth/token/``), an endpoint made at the webhooks HTTP API (its ``whsec_``
secret shown once), a test ping (``POST /webhooks/endpoints/{id}/test``: the API function queues
an attempt, the deliver function posts it), then a job whose ``job.succeeded`` travels worker ->
SNS (filter policy) -> webhooks queue -> deliver function -> receiver. The receiver verifies every
delivery with PyPI's ``standardwebhooks``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from infra.rehearse.django_side import DjangoFunction
from infra.webhook_receivers import Delivery, Receiver, serving

TERMINAL_EVENT_TYPES = ["job.succeeded", "job.failed", "job.cancelled"]
# API Gateway's HTTP API integration timeout: a call never waits longer on AWS either.
CALL_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.5

# What the rehearsal does not prove about webhooks, and why; the report and docs/operations.md
# list the same. MiniStack cannot do some of it, the rest a one-job rehearsal cannot reach.
NOT_REHEARSED = [
    {
        "what": "webhooks on Node 22",
        "why": "MiniStack runs the nodejs22.x functions with the machine's node (see bridges); "
        "Lambda's Node 22 runtime is not exercised",
    },
    {
        "what": "SSRF rules for public https receivers",
        "why": "the receiver is on 127.0.0.1, let through by WEBHOOKS_ALLOWED_URLS (a bridge); DNS "
        "resolution to public addresses and TLS to a receiver are not exercised",
    },
    {
        "what": "retries with real delays",
        "why": "the receiver answers 200 at once: the retry schedule (5 s to 10 h, SQS DelaySeconds up "
        "to 900 s), failing and disabled endpoints and the webhooks DLQ are not exercised",
    },
    {
        "what": "result_url fetch with the service credential",
        "why": "the job's result travels in its event (results over JOB_EVENT_RESULT_MAX_BYTES, 96 KiB, "
        "travel as result_url); the credential is put in SSM as operations step 6 says, but the "
        "deliver function reads it only for a result_url",
    },
    {
        "what": "Django's JWKS at its API Gateway URL",
        "why": "the Django function runs outside MiniStack; the webhooks API fetches the JWKS over http "
        "from a stand-in on 127.0.0.1 that invokes it (a bridge), not from API Gateway over TLS",
    },
    {
        "what": "CORS of the webhooks HTTP API",
        "why": "no browser calls it: the page's origin (params.pageOrigin) and the preflight are not exercised",
    },
    {
        "what": "the filter policy following non-terminal event types",
        "why": "the endpoint asks for terminal events only, so the API function never widens the "
        "subscription's FilterPolicy (SetSubscriptionAttributes)",
    },
    {
        "what": "the HTTP API's limits",
        "why": "one small request at a time: the 30 s integration timeout, 10 MB payloads and throttling "
        "are not exercised",
    },
    {
        "what": "the functions' IAM roles",
        "why": "MiniStack does not enforce IAM; cfn-lint and the template tests check the roles",
    },
]


class WebhooksApi:
    """The webhooks HTTP API as a client calls it: ``Authorization: Bearer <access token>``."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 - the emulator on 127.0.0.1
            self.base_url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_SECONDS) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def expect(self, status: int, method: str, path: str, body: Any = None) -> Any:
        answered, answer = self.call(method, path, body)
        if answered != status:
            raise RuntimeError(f"{method} {path} answered {answered}, not {status}: {answer}")
        return answer

    def create_endpoint(self, *, url: str, description: str, event_types: list[str]) -> dict[str, Any]:
        body = {"url": url, "description": description, "event_types": event_types}
        return dict(self.expect(201, "POST", "/webhooks/endpoints", body))

    def send_test(self, endpoint_id: str) -> dict[str, Any]:
        return dict(self.expect(202, "POST", f"/webhooks/endpoints/{endpoint_id}/test")["delivery"])

    def deliveries(self, endpoint_id: str) -> list[dict[str, Any]]:
        return list(self.expect(200, "GET", f"/webhooks/endpoints/{endpoint_id}/deliveries")["deliveries"])


def webhooks_access_token(django: DjangoFunction, *, api_token: str) -> str:
    """What a program holding a Django API token does: exchanges it for a token for the service."""
    status, answer = django.api("POST", "/api/auth/token/", token=api_token, body={"audience": "webhooks"})
    if status != 200:
        raise RuntimeError(f"POST /api/auth/token/ answered {status}: {answer}")
    return str(answer["access_token"])


def event_type(delivery: Delivery) -> str:
    """A delivery's type, read from its body whether or not it verified."""
    try:
        return str(json.loads(delivery.body).get("type"))
    except (ValueError, AttributeError):
        return "?"


def job_id_of(delivery: Delivery) -> str:
    try:
        return str((json.loads(delivery.body).get("data") or {}).get("job_id"))
    except (ValueError, AttributeError):
        return "?"


@dataclass
class WebhookRun:
    endpoint_id: str = ""
    job_id: str = ""
    final_http: dict[str, Any] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    recorded: list[dict[str, Any]] = field(default_factory=list)  # the API's delivery records
    timings: dict[str, float] = field(default_factory=dict)


def _wait_for_records(api: WebhooksApi, endpoint_id: str, *, count: int, timeout: float) -> list[dict[str, Any]]:
    """The endpoint's delivery records once ``count`` of them are settled (the deliver function
    writes the outcome after the receiver has answered)."""
    deadline = time.monotonic() + timeout
    records: list[dict[str, Any]] = []
    for _ in range(int(timeout / POLL_SECONDS) + 1):  # bounded in count as well as in time
        records = api.deliveries(endpoint_id)
        if sum(record["status"] in ("succeeded", "failed") for record in records) >= count:
            return records
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"{count} settled delivery records not there in {timeout:.0f} s: {records}")


def run_webhook_delivery(
    django: DjangoFunction, *, api_token: str, webhooks_api_url: str, timeout: float = 120
) -> WebhookRun:
    run = WebhookRun()
    started = time.monotonic()
    api = WebhooksApi(webhooks_api_url, webhooks_access_token(django, api_token=api_token))
    run.timings["token_s"] = time.monotonic() - started
    with serving(Receiver()) as receiver:
        endpoint = api.create_endpoint(url=receiver.url, description="rehearsal", event_types=TERMINAL_EVENT_TYPES)
        run.endpoint_id = str(endpoint["id"])
        receiver.secret = str(endpoint.get("secret", ""))
        if not receiver.secret.startswith("whsec_"):
            raise RuntimeError(f"POST /webhooks/endpoints showed no whsec_ secret: {endpoint}")
        run.timings["endpoint_s"] = time.monotonic() - started

        api.send_test(run.endpoint_id)
        receiver.wait_until(
            lambda got: any(event_type(d) == "webhook.test" for d in got), what="the test ping", timeout=timeout
        )
        run.timings["test_delivered_s"] = time.monotonic() - started

        submitting = time.monotonic()
        status, job = django.api(
            "POST", "/api/jobs/", token=api_token, body={"task": "word_count", "params": {"text": "to be or not to be"}}
        )
        if status != 202:
            raise RuntimeError(f"POST /api/jobs/ answered {status}: {job}")
        run.job_id = str(job["id"])
        receiver.wait_until(
            lambda got: any(event_type(d) == "job.succeeded" and job_id_of(d) == run.job_id for d in got),
            what=f"job.succeeded of {run.job_id}",
            timeout=timeout,
        )
        # From before the POST: Django's process may still be exiting when the worker has finished.
        run.timings["job_delivered_after_post_s"] = time.monotonic() - submitting
        run.recorded = _wait_for_records(api, run.endpoint_id, count=2, timeout=timeout)
        run.deliveries = list(receiver.deliveries)

    status, run.final_http = django.api("GET", f"/api/jobs/{run.job_id}/", token=api_token)
    if status != 200:
        raise RuntimeError(f"GET /api/jobs/{run.job_id}/ answered {status}: {run.final_http}")
    run.timings["total_s"] = time.monotonic() - started
    return run


def problems(run: WebhookRun) -> list[str]:
    """What in the run differs from what the service promises (docs/webhooks.md)."""
    found = []
    unverified = [d.headers.get("webhook-id") for d in run.deliveries if not d.verified]
    if unverified:
        found.append(f"deliveries whose signature did not verify: {unverified}")
    tests = [d for d in run.deliveries if d.verified and d.payload["type"] == "webhook.test"]
    if [d.payload["data"] for d in tests] != [{"endpoint_id": run.endpoint_id}]:
        found.append(f"the test ping arrived as {[d.payload for d in tests]}")
    job_deliveries = [d for d in run.deliveries if d.verified and job_id_of(d) == run.job_id]
    if [d.payload["type"] for d in job_deliveries] != ["job.succeeded"]:
        found.append(f"the job's deliveries were {[d.payload['type'] for d in job_deliveries]}, not one job.succeeded")
    elif job_deliveries[0].payload["data"].get("result") != run.final_http.get("result"):
        found.append(
            f"job.succeeded carried {job_deliveries[0].payload['data'].get('result')!r},"
            f" GET /api/jobs/<id>/ says {run.final_http.get('result')!r}"
        )
    received = {d.headers.get("webhook-id") for d in run.deliveries}
    for record in run.recorded:
        last = (record.get("attempts") or [{}])[-1]
        if record["status"] != "succeeded" or last.get("status_code") != 200 or record["id"] not in received:
            found.append(f"the API records delivery {record['id']} as {record['status']}, last attempt {last}")
    return found


def _received(delivery: Delivery) -> dict[str, Any]:
    kind = event_type(delivery)
    data = delivery.payload["data"] if delivery.verified else {}
    return {
        "type": kind,
        "webhook_id": delivery.headers.get("webhook-id"),
        "verified": delivery.verified,
        "job_id": data.get("job_id"),
        "result": data.get("result"),
    }


def summary(run: WebhookRun) -> dict[str, Any]:
    """What the report keeps of a run."""
    return {
        "endpoint_id": run.endpoint_id,
        "job_id": run.job_id,
        "received": [_received(d) for d in run.deliveries],
        "recorded": [{"id": r["id"], "event_type": r["event_type"], "status": r["status"]} for r in run.recorded],
        "timings_s": {key: round(value, 2) for key, value in run.timings.items()},
    }
