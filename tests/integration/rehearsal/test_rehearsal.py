"""`make rehearse` in a subprocess, as an operator runs it: osls deploys to MiniStack, one job goes
end to end through what was deployed to a real WebSocket client, and another's job.succeeded
reaches a webhook receiver on 127.0.0.1 that verifies it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [pytest.mark.rehearsal, pytest.mark.slow, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[3]
REPORT = REPO / "build" / "rehearse" / "report.json"
OPERATIONS = REPO / "docs" / "operations.md"
# Every gap between MiniStack and AWS the rehearsal bridges (docs/operations.md). A new one must be
# looked at, and one that disappears means MiniStack caught up: either way this list changes.
EXPECTED_BRIDGES = [
    "template: removed WebsocketsDeployment",
    "api: CreateDeployment",
    "function polyglot-dev-websocket: MANAGEMENT_API_ENDPOINT",
    "function polyglot-dev-push: MANAGEMENT_API_ENDPOINT",
    "api: HttpApi ApiEndpoint",
    "function polyglot-dev-webhooksApi: WEBHOOKS_ALLOWED_URLS '' -> http://127.0.0.1:*",
    "function polyglot-dev-webhooksDeliver: WEBHOOKS_ALLOWED_URLS '' -> http://127.0.0.1:*",
    "function polyglot-dev-webhooksApi: API_BASE_URL",
    "function polyglot-dev-webhooksDeliver: API_BASE_URL",
    "runtime: MiniStack runs polyglot-dev-webhooksApi (nodejs22.x) with this machine's node",
    "runtime: MiniStack runs polyglot-dev-webhooksDeliver (nodejs22.x) with this machine's node",
    # Not MiniStack's gap: deployed stages install no sample task, and the journey runs one.
    "function polyglot-dev-worker: JOBS_EXTRA_TASK_MODULES=django_app.demo.tasks",
]


def test_the_deployed_stack_runs_a_job_to_a_websocket_client(
    osls_package: Callable[[str], Path], zappa_dev_artifact: Path
) -> None:
    # What operators build, built once for the session (tests/operator_builds.py): the deploy tests
    # read the same package, the artifact tests the same zip.
    package_dir = osls_package("dev")
    REPORT.unlink(missing_ok=True)
    # The rehearsal talks only to the MiniStack it starts: none of this session's moto settings.
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "infra.rehearse", "--stage", "dev"),
            *("--osls-package", str(package_dir), "--zappa-zip", str(zappa_dev_artifact)),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1400,
        check=False,
    )
    output = completed.stdout[-4000:] + completed.stderr[-4000:]
    assert REPORT.exists(), output
    report = json.loads(REPORT.read_text())
    assert completed.returncode == 0, f"failed at {report.get('failed_step')}: {report.get('error')}\n{output}"
    assert report["ok"] is True

    steps = [step["step"] for step in report["steps"]]
    assert report["steps"][0]["built_by"] == str(package_dir)  # deployed what the deploy tests checked
    assert steps == [
        "osls package",
        "zappa package",
        "osls deploy (MiniStack)",
        "bridge MiniStack gaps",
        "operator secrets in SSM",
        "django: migrate + first admin (Zappa artifact)",
        "django: the webhooks service's credential in SSM",
        "job end to end over a real WebSocket",
        "webhook delivered to a verifying receiver",
    ]
    bridges = report["bridges"]
    assert len(bridges) == len(EXPECTED_BRIDGES)
    for expected, applied in zip(EXPECTED_BRIDGES, bridges, strict=True):
        assert applied.startswith(expected), bridges

    journey = report["journey"]
    statuses = [event["status"] for event in journey["events"]]
    seqs = [event["seq"] for event in journey["events"]]
    assert statuses[0] in {"queued", "running"}
    assert statuses[-1] == "succeeded"
    assert seqs == sorted(set(seqs))
    assert journey["final_http_status"] == "succeeded"
    assert journey["dlq_depths"] == {
        "polyglot-dev-jobs-dlq": 0,
        "polyglot-dev-jobs-long-dlq": 0,
        "polyglot-dev-push-dlq": 0,
    }
    # The events crossed the deployed functions: MiniStack ran the worker and push packages.
    log = Path(report["ministack"]["log"]).read_text()
    assert "Lambda polyglot-dev-worker processed" in log
    assert "Lambda polyglot-dev-push processed" in log
    assert "Lambda worker spawned for polyglot-dev-websocket" in log

    hooks = report["webhooks"]
    received = {delivery["type"]: delivery for delivery in hooks["received"]}
    assert sorted(received) == ["job.succeeded", "webhook.test"], hooks["received"]
    assert all(delivery["verified"] for delivery in hooks["received"])
    assert received["job.succeeded"]["job_id"] == hooks["job_id"]
    assert received["job.succeeded"]["result"]["words"] == 6
    assert [record["status"] for record in hooks["recorded"]] == ["succeeded", "succeeded"]
    # The API function verified the access token against Django's JWKS, fetched through the stand-in.
    assert "GET /.well-known/jwks.json 200" in hooks["django_stand_in"]
    assert hooks["dlq_depth"] == 0
    assert "Lambda worker spawned for polyglot-dev-webhooksApi" in log
    assert "Lambda polyglot-dev-webhooksDeliver processed" in log
    # The subscription's filter policy: the push queue gets every event of both jobs, the webhooks
    # queue their two job.succeeded only.
    assert log.count("SNS fanout → SQS polyglot-dev-webhooks\n") == 2
    assert log.count("SNS fanout → SQS polyglot-dev-push\n") > 2

    # What the rehearsal cannot prove is listed in the report and in docs/operations.md alike.
    not_rehearsed = report["not_rehearsed"]["webhooks"]
    assert not_rehearsed
    operations = OPERATIONS.read_text()
    for item in not_rehearsed:
        assert item["what"] in operations, item
