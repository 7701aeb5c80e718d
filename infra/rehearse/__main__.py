"""``make rehearse`` (``python -m infra.rehearse``): the deploy rehearsal on MiniStack.

1. ``npx osls package`` the stack, exactly as operators do (``infra/rehearse/osls.py``), or take
   the folder an earlier ``osls package`` of the same stage wrote (``--osls-package``; the tests
   pass the one their deploy tests built) and the Zappa artifact (``--zappa-zip``).
2. Bridge MiniStack's gaps in that package's copy of the template (``gaps.py``), and deploy it
   with ``npx osls deploy --package`` to a fresh MiniStack (``AWS_ENDPOINT_URL``); then bridge the
   gaps of the deployed stack (``gaps.py`` again, among them a stand-in on 127.0.0.1 for the
   Django function's API Gateway, ``django_gateway.py``, which the webhooks functions read from).
3. The operator's steps of docs/operations.md: the secrets as SecureString parameters.
4. The Django function from the unzipped Zappa artifact, in a fresh isolated process
   (``infra.lambda_sandbox``): ``migrate``, the first admin, the webhooks service's credential
   (step 6), then the API.
5. A real WebSocket client connects through MiniStack's WebSocket API (the deployed websocket
   function), subscribes, submits a job over the API, and waits for the terminal event, which
   travels jobs queue -> worker function -> SNS -> push queue -> push function -> socket, every
   function run by MiniStack from the package osls built.
6. A webhook (``webhooks.py``): an access token for audience ``webhooks`` from Django, an endpoint
   and a test ping at the deployed HTTP API (the webhooksApi function), then a job whose
   ``job.succeeded`` travels SNS -> webhooks queue -> webhooksDeliver function -> a receiver on
   127.0.0.1 that verifies every delivery with ``standardwebhooks``.

Exits non-zero, naming the step, when any of it fails. Writes build/rehearse/report.json, with the
bridges applied (``bridges``) and what the rehearsal does not prove (``not_rehearsed``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3

from infra.lambda_sandbox import unzip
from infra.rehearse import django_gateway, gaps, ministack, osls, webhooks
from infra.rehearse.django_side import DjangoFunction
from infra.rehearse.events import api_base_url
from infra.rehearse.journey import run_journey
from infra.signing_keys.rotation import create
from infra.signing_keys.store import KeyStore

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "build" / "rehearse"
REGION = "us-east-1"


def client(service: str, endpoint: str) -> Any:
    return boto3.session.Session().client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="rehearsal",
        aws_secret_access_key="rehearsal",  # noqa: S106 - MiniStack accepts any credentials
    )


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def physical_id(cloudformation: Any, stack: str, logical: str) -> str:
    resource = cloudformation.describe_stack_resource(StackName=stack, LogicalResourceId=logical)
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


def put_operator_secrets(ssm: Any, *, prefix: str, stage: str, database: Path) -> None:
    """What docs/operations.md has an operator create before the first ``zappa deploy``."""
    values = {
        "django-secret-key": secrets.token_urlsafe(50),
        "database-url": f"sqlite:///{database}",  # PostgreSQL on AWS; one file shared by both sides here
    }
    for name, value in values.items():
        ssm.put_parameter(Name=f"{prefix}/{name}", Value=value, Type="SecureString", Overwrite=True)
    keys = KeyStore(ssm=ssm, prefix=prefix)  # as `python -m infra.signing_keys create` does
    before = keys.slots_read()
    if not before.current.pem:
        keys.slots_write(before, create(before))
    ssm.put_parameter(Name=f"{prefix}/api-base-url", Value=api_base_url(stage), Type="String", Overwrite=True)


def put_webhooks_credential(ssm: Any, *, stage: str, credential: str) -> None:
    """Step 6 of docs/operations.md: the webhooks service's Django credential, where only the
    deliver function's policy may read it (serverless.yml: WEBHOOKS_SECRET_PARAMETER)."""
    name = f"/polyglot-webhooks/{stage}/django-credential"
    ssm.put_parameter(Name=name, Value=credential, Type="SecureString", Overwrite=True)


def queue_depth(sqs: Any, name: str) -> int:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


class Steps:
    """Names the step in progress, so a failure says where it happened."""

    def __init__(self) -> None:
        self.done: list[dict[str, Any]] = []
        self.current = ""
        self._started = 0.0

    def start(self, name: str) -> None:
        self.current, self._started = name, time.monotonic()
        print(f"[rehearse] {name} ...", flush=True)

    def finish(self, **facts: Any) -> None:
        seconds = round(time.monotonic() - self._started, 1)
        self.done.append({"step": self.current, "seconds": seconds, **facts})
        print(f"[rehearse] {self.current}: ok ({seconds} s) {json.dumps(facts) if facts else ''}", flush=True)


def rehearse(
    *, stage: str, osls_package: Path | None, zappa_zip: Path | None, steps: Steps, report: dict[str, Any]
) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    log = WORK / "osls.log"
    log.unlink(missing_ok=True)
    bridges = gaps.Bridges()
    report["bridges"] = bridges.applied
    report["not_rehearsed"] = {"webhooks": webhooks.NOT_REHEARSED}
    stack = f"polyglot-{stage}"
    prefix = f"/polyglot/{stage}"

    steps.start("osls package")
    package_dir = WORK / "osls-package"
    if osls_package is None:
        osls.package(stage=stage, into=package_dir, log=log)
    else:  # the MiniStack bridges below patch the template: they patch a copy
        shutil.rmtree(package_dir, ignore_errors=True)
        shutil.copytree(osls_package, package_dir)
    gaps.patch_template(package_dir, bridges)
    steps.finish(
        artifacts=sorted(p.name for p in package_dir.rglob("*.zip")),
        built_by="this run" if osls_package is None else str(osls_package),
    )

    steps.start("zappa package")
    if zappa_zip is None:
        from infra.package import build

        zappa_zip = build(stage)
    steps.finish(artifact=str(zappa_zip), bytes=zappa_zip.stat().st_size)

    with (
        ministack.running(workdir=WORK / "ministack") as emulator,
        tempfile.TemporaryDirectory(prefix="rehearse-", dir=WORK) as temp,
        ExitStack() as serving,
    ):
        report["ministack"] = {"endpoint": emulator.endpoint, "log": str(emulator.log)}
        # The Django function, ready to run once its secrets are in SSM; the webhooks functions
        # reach it through a stand-in for its API Gateway, which must be listening before they are
        # pointed at it.
        django = DjangoFunction(
            artifact_dir=unzip(zappa_zip, Path(temp) / "zappa"),
            stage=stage,
            endpoint=emulator.endpoint,
            workdir=Path(temp),
        )
        django_stand_in = serving.enter_context(django_gateway.serving(django))
        cloudformation, ssm = client("cloudformation", emulator.endpoint), client("ssm", emulator.endpoint)
        sqs, lambdas = client("sqs", emulator.endpoint), client("lambda", emulator.endpoint)

        steps.start("osls deploy (MiniStack)")
        osls.deploy(stage=stage, package_dir=package_dir, endpoint=emulator.endpoint, log=log)
        outputs = stack_outputs(cloudformation, stack)
        api_id = physical_id(cloudformation, stack, "WebsocketsApi")
        exported = {
            p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in ssm.get_parameters_by_path(Path=prefix)["Parameters"]
        }
        wanted = {
            "jobs-queue-url",
            "jobs-long-queue-url",
            "job-events-topic-arn",
            "websocket-url",
            "management-endpoint",
            "webhooks-api-url",
        }
        if not wanted <= set(exported):
            raise RuntimeError(f"the stack exported {sorted(exported)} under {prefix}, not all of {sorted(wanted)}")
        steps.finish(api_id=api_id, outputs=sorted(outputs), ssm_parameters=sorted(exported))

        steps.start("bridge MiniStack gaps")
        gaps.deploy_websocket_stage(
            client("apigatewayv2", emulator.endpoint), api_id=api_id, stage=stage, bridges=bridges
        )
        management = gaps.ministack_management_endpoint(endpoint=emulator.endpoint, api_id=api_id, stage=stage)
        gaps.point_functions_at_emulator(
            lambdas, functions=[f"{stack}-websocket", f"{stack}-push"], management_endpoint=management, bridges=bridges
        )
        webhooks_api_url = gaps.ministack_http_api_url(
            endpoint=emulator.endpoint, api_id=physical_id(cloudformation, stack, "HttpApi")
        )
        gaps.note_http_api_url(deployed=exported["webhooks-api-url"], local=webhooks_api_url, bridges=bridges)
        webhooks_functions = [f"{stack}-webhooksApi", f"{stack}-webhooksDeliver"]
        gaps.allow_local_receivers(lambdas, functions=webhooks_functions, bridges=bridges)
        gaps.point_webhooks_at_django_stand_in(
            lambdas,
            functions=webhooks_functions,
            stand_in=django_stand_in.base_url,
            issuer=api_base_url(stage),
            bridges=bridges,
        )
        gaps.note_node_runtime(lambdas, functions=webhooks_functions, bridges=bridges)
        gaps.add_sample_tasks(lambdas, function=f"{stack}-worker", bridges=bridges)
        steps.finish()

        steps.start("operator secrets in SSM")
        database = Path(temp) / "db.sqlite3"
        put_operator_secrets(ssm, prefix=prefix, stage=stage, database=database)
        steps.finish()

        steps.start("django: migrate + first admin (Zappa artifact)")
        token = django.migrate_and_create_admin()
        steps.finish()

        steps.start("django: the webhooks service's credential in SSM")
        credential = django.create_service_credential(service="webhooks", permissions=["jobs:read"])
        put_webhooks_credential(ssm, stage=stage, credential=credential)
        steps.finish()

        steps.start("job end to end over a real WebSocket")
        websocket_base = gaps.ministack_websocket_url(endpoint=emulator.endpoint, api_id=api_id, stage=stage)
        journey = asyncio.run(run_journey(django, token=token, websocket_base=websocket_base))
        # Delivery order is not guaranteed (SNS → SQS → push); the client keeps an event only when its
        # seq beats the last one kept (docs/protocol.md). Apply the same rule, then judge the result.
        applied: list[dict[str, Any]] = []
        for event in journey.events:
            if not applied or event["seq"] > applied[-1]["seq"]:
                applied.append(event)
        sequence = [event["seq"] for event in applied]
        statuses = [event["status"] for event in applied]
        problems = []
        if journey.websocket_url_from_django != exported["websocket-url"]:
            problems.append(f"Django's websocket_url {journey.websocket_url_from_django!r} is not SSM's")
        if statuses[-1:] != ["succeeded"]:
            problems.append(f"the job ended {statuses[-1:]}, not succeeded (events: {journey.events})")
        if journey.final_http.get("status") != "succeeded" or journey.final_http.get("seq") != sequence[-1]:
            problems.append(f"GET /api/jobs/<id>/ says {journey.final_http}, the last event seq {sequence[-1]}")
        dlqs = (f"{stack}-jobs-dlq", f"{stack}-jobs-long-dlq", f"{stack}-push-dlq")
        dead = {name: queue_depth(sqs, name) for name in dlqs}
        if any(dead.values()):
            problems.append(f"messages in DLQs: {dead}")
        if problems:
            raise RuntimeError("; ".join(problems))
        report["journey"] = {
            "job_id": journey.job_id,
            # As the client shows them (seq rule applied); `delivered` counts every frame received.
            "events": [{"seq": e["seq"], "status": e["status"], "progress": e.get("progress")} for e in applied],
            "delivered": len(journey.events),
            "final_http_status": journey.final_http.get("status"),
            "timings_s": {key: round(value, 2) for key, value in journey.timings.items()},
            "dlq_depths": dead,
        }
        steps.finish(job_id=journey.job_id, statuses=statuses)

        steps.start("webhook delivered to a verifying receiver")
        delivery = webhooks.run_webhook_delivery(django, api_token=token, webhooks_api_url=webhooks_api_url)
        report["webhooks"] = {
            **webhooks.summary(delivery),
            "django_stand_in": list(django_stand_in.requests),
            "dlq_depth": queue_depth(sqs, f"{stack}-webhooks-dlq"),
        }
        webhook_problems = webhooks.problems(delivery)
        if report["webhooks"]["dlq_depth"]:
            webhook_problems.append(f"messages in the webhooks DLQ: {report['webhooks']['dlq_depth']}")
        if webhook_problems:
            raise RuntimeError("; ".join(webhook_problems))
        steps.finish(endpoint_id=delivery.endpoint_id, job_id=delivery.job_id, received=len(delivery.deliveries))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument(
        "--osls-package",
        type=Path,
        default=None,
        help="Deploy this `osls package --stage <stage> --package` folder (a copy) instead of packaging again.",
    )
    parser.add_argument("--zappa-zip", type=Path, default=None, help="Use this Zappa artifact instead of building one.")
    args = parser.parse_args()
    steps = Steps()
    report: dict[str, Any] = {"stage": args.stage, "ok": False}
    try:
        rehearse(stage=args.stage, osls_package=args.osls_package, zappa_zip=args.zappa_zip, steps=steps, report=report)
        report["ok"] = True
    except Exception as error:
        report["failed_step"] = steps.current
        report["error"] = f"{type(error).__name__}: {error}"
        print(f"[rehearse] FAILED at {steps.current}: {report['error']}", file=sys.stderr, flush=True)
    finally:
        report["steps"] = steps.done
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: report[k] for k in ("ok", "bridges", "journey", "webhooks") if k in report}, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
