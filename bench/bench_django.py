"""The Django function: cold start, warm per-request overhead and artifact size.

Cold start is a fresh ``python -I -S -B`` process (``-B``: Lambda's task root is read-only, so
recompiled bytecode is never kept) importing a handler from an unzipped artifact and answering one
``GET /api/health/`` REST event. Variants, measured interleaved in the same run:

- ours: ``make package`` (``zappa package`` + trusted bytecode + lazy boto3 + pruning)
- stock Zappa: ``zappa package`` of the same app with only the repo's non-app folders excluded
- apig-wsgi: the same app and bytecode as ours behind apig-wsgi's handler
- floor: a handler that only imports json

Configuration comes from environment variables for every variant, so no variant reads SSM (on
Lambda, reading secrets from SSM adds boto3's import and one GetParametersByPath call).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from infra.lambda_sandbox import child_command, lambda_runtime_dir, unzip
from infra.package import BUILD, REPO, build, zappa_package
from polyglot_auth.jwk import private_key_generate_pem

TITLE = "Django function (Zappa): cold start, warm overhead, artifact size"
COLD_RUNS = 15
WARM_BLOCKS = 12
WARM_REQUESTS_PER_BLOCK = 100
HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"

ENV = {
    "PATH": os.environ.get("PATH", ""),
    "LANG": "C.UTF-8",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "DJANGO_SETTINGS_MODULE": "django_app.config.settings.lambda_",
    "DJANGO_SECRET_KEY": "bench-secret-key-" + "b" * 50,
    "AUTH_SIGNING_KEY": private_key_generate_pem(),
    "AUTH_SIGNING_KEY_NEXT": "",
    "AUTH_SIGNING_KEY_PREVIOUS": "",
    "AUTH_ISSUER": "https://bench.example.test",
    "JOBS_QUEUE_URL": "http://127.0.0.1:1/000000000000/bench",
    "JOB_EVENTS_TOPIC_ARN": "",
    "WEBSOCKET_URL": "",
    "STAGE": "dev",
    "DATABASE_URL": "sqlite:////tmp/polyglot-bench-unused.sqlite3",
    # A safety net: any AWS call a variant makes fails here at once instead of leaving the machine.
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}

FLOOR_HANDLER = """import json


def lambda_handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"status": "ok"})}
"""

APIG_HANDLER = """import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.config.settings.lambda_")
from apig_wsgi import make_lambda_handler
from django.core.wsgi import get_wsgi_application

lambda_handler = make_lambda_handler(get_wsgi_application())
"""

STOCK_SETTINGS = {
    "bench": {
        "project_name": "polyglot",
        "django_settings": "django_app.config.settings.lambda_",
        "runtime": "python3.11",
        "aws_region": "us-east-1",
        "s3_bucket": "unused-by-package",
        "environment_variables": {"STAGE": "dev"},
        # What any project excludes: its tooling, not the app or its dependencies.
        "exclude": ["node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".venv*", ".local", ".git"],
        "exclude_glob": ["build", "bench", "docs", "tests", "functions", "infra"],
    }
}


def health_event() -> dict[str, object]:
    event = json.loads((REPO / "tests" / "events" / "apigw_rest_v1.json").read_text())
    event["headers"]["Host"] = HOST
    return event


def prepare_variants(root: Path) -> dict[str, Path]:
    ours_zip = build("dev")
    settings_file = root / "stock_settings.json"
    settings_file.write_text(json.dumps(STOCK_SETTINGS))
    stock_zip = zappa_package(stage="bench", output=BUILD / "zappa-stock-bench.zip", settings_file=settings_file)
    variants = {
        "ours": unzip(ours_zip, root / "ours"),
        "stock Zappa": unzip(stock_zip, root / "stock"),
    }
    apig = root / "apig"
    shutil.copytree(variants["ours"], apig)
    import apig_wsgi

    shutil.copytree(Path(apig_wsgi.__file__).parent, apig / "apig_wsgi")
    (apig / "apig_handler.py").write_text(APIG_HANDLER)
    variants["apig-wsgi"] = apig
    floor = root / "floor"
    floor.mkdir()
    (floor / "handler.py").write_text(FLOOR_HANDLER)
    variants["floor"] = floor
    return variants


HANDLERS = {"apig-wsgi": "apig_handler.lambda_handler"}


def cold_once(artifact: Path, runtime: Path, name: str, work: Path, flags: tuple[str, ...] = ()) -> tuple[float, str]:
    out = work / f"out-{name}.json"
    command = child_command(
        artifact, runtime, HANDLERS.get(name, "handler.lambda_handler"), work / "events.json", out, python_flags=flags
    )
    started = time.perf_counter()
    completed = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{completed.stderr[-3000:]}")
    response = json.loads(out.read_text())["responses"][0]
    if response["statusCode"] != 200:
        raise RuntimeError(f"{name} answered {response}")
    return elapsed, completed.stderr


def import_breakdown(stderr: str) -> list[tuple[str, float]]:
    """Self time per top-level package from ``-X importtime`` output, largest first."""
    per_package: dict[str, float] = defaultdict(float)
    for match in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)", stderr):
        per_package[match.group(2).split(".")[0]] += int(match.group(1)) / 1000
    return sorted(per_package.items(), key=lambda item: -item[1])


WARM_CHILD = r"""
import io, json, os, statistics, sys, time
artifact, runtime, context_path, out_path, blocks, per_block = sys.argv[1:7]
sys.path[0:0] = [artifact, runtime]
os.chdir(artifact)
import importlib.util
spec = importlib.util.spec_from_file_location("lambda_context", context_path)
context_module = importlib.util.module_from_spec(spec); spec.loader.exec_module(context_module)
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth.models import User
from django_app.accounts.tokens import api_token_create
from django_app.jobs.models import Job
user = User.objects.create_user("bench")
token = api_token_create(user=user, name="bench")[1]
job = Job.objects.create(owner=user, task="countdown", params={"seconds": 1})
from handler import lambda_handler
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
event = json.loads(os.environ["BENCH_EVENT"])
event["path"] = event["pathParameters"]["proxy"] = f"/api/jobs/{job.id}/"
event["headers"]["Authorization"] = f"Bearer {token}"
event["multiValueHeaders"]["Authorization"] = [f"Bearer {token}"]
host = event["headers"]["Host"]
environ_template = {
    "REQUEST_METHOD": "GET", "SCRIPT_NAME": "/dev", "PATH_INFO": f"/api/jobs/{job.id}/", "QUERY_STRING": "",
    "SERVER_NAME": host, "SERVER_PORT": "443", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.10",
    "HTTP_HOST": host, "HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_ACCEPT": "application/json", "wsgi.url_scheme": "https", "wsgi.errors": sys.stderr,
    "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
}
def through_handler():
    response = lambda_handler(dict(event), context_module.LambdaContext())
    assert response["statusCode"] == 200, response
def direct_wsgi():
    environ = dict(environ_template); environ["wsgi.input"] = io.BytesIO(b"")
    statuses = []
    body = b"".join(application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("200"), statuses
for _ in range(50):  # warm both paths: caches, connections, lazily imported modules
    through_handler(); direct_wsgi()
results = {"handler": [], "wsgi": []}
for block in range(int(blocks)):
    order = [("handler", through_handler), ("wsgi", direct_wsgi)]
    if block % 2:
        order.reverse()
    for name, call in order:
        started = time.perf_counter()
        for _ in range(int(per_block)):
            call()
        results[name].append((time.perf_counter() - started) / int(per_block))
json.dump(results, open(out_path, "w"))
"""


def warm(artifact: Path, runtime: Path, work: Path) -> dict[str, list[float]]:
    out = work / "warm.json"
    env = {**ENV, "DATABASE_URL": f"sqlite:///{work / 'warm.sqlite3'}", "BENCH_EVENT": json.dumps(health_event())}
    from infra.lambda_sandbox import CONTEXT_MODULE

    subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-B",
            "-c",
            WARM_CHILD,
            str(artifact),
            str(runtime),
            str(CONTEXT_MODULE),
            str(out),
            str(WARM_BLOCKS),
            str(WARM_REQUESTS_PER_BLOCK),
        ],
        env=env,
        check=True,
        timeout=600,
        capture_output=True,
    )
    return dict(json.loads(out.read_text()))


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-django-") as temp:
        root = Path(temp)
        variants = prepare_variants(root)
        runtime = lambda_runtime_dir(root)
        (root / "events.json").write_text(json.dumps([health_event()]))
        for name, path in variants.items():  # one unmeasured start each: page cache, not bytecode
            cold_once(path, runtime, name, root)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(COLD_RUNS):
            for name, path in variants.items():
                times[name].append(cold_once(path, runtime, name, root)[0])
        _, importtime = cold_once(variants["ours"], runtime, "ours", root, flags=("-X", "importtime"))
        warm_results = warm(variants["ours"], runtime, root)
        sizes = {
            "ours": (BUILD / "zappa-dev.zip").stat().st_size,
            "stock Zappa": (BUILD / "zappa-stock-bench.zip").stat().st_size,
        }
    (BUILD / "zappa-stock-bench.zip").unlink(missing_ok=True)
    return report(times, import_breakdown(importtime), warm_results, sizes)


def report(
    times: dict[str, list[float]],
    imports: list[tuple[str, float]],
    warm_results: dict[str, list[float]],
    sizes: dict[str, int],
) -> str:
    floor = statistics.median(times["floor"])
    lines = [
        f"### Cold start: fresh process → first response ({COLD_RUNS} runs each, interleaved)",
        "",
        "| variant | median ms | × floor | target |",
        "|---|---:|---:|---|",
    ]
    targets = {"ours": "≤ 15×", "floor": "(the floor)"}
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median * 1000:.0f} | {median / floor:.1f}× | {targets.get(name, '')} |")
    total = sum(ms for _, ms in imports)
    lines += [
        "",
        f"Where ours spends its cold start: `-X importtime` self time by top-level package ({total:.0f} ms of "
        "imports in all; numbers from one run with import timing on, which inflates them a little):",
        "",
        "| package | ms |",
        "|---|---:|",
        *(f"| {name} | {ms:.0f} |" for name, ms in imports[:12]),
    ]
    handler = statistics.median(warm_results["handler"])
    wsgi = statistics.median(warm_results["wsgi"])
    lines += [
        "",
        f"### Warm `GET /api/jobs/{{id}}/` (bearer token, SQLite; median of {WARM_BLOCKS} blocks × "
        f"{WARM_REQUESTS_PER_BLOCK} requests)",
        "",
        "| path | µs per request |",
        "|---|---:|",
        f"| Zappa's Lambda handler (REST v1 event) | {handler * 1e6:.0f} |",
        f"| Django's WSGI app called directly | {wsgi * 1e6:.0f} |",
        f"| **ratio** (target ≤ 1.25×) | **{handler / wsgi:.2f}×** |",
        "",
        "### Artifact size (zipped)",
        "",
        "| artifact | MiB |",
        "|---|---:|",
        *(f"| {name} | {size / 2**20:.1f} |" for name, size in sizes.items()),
        "",
        "Target for ours: ≤ 21 MiB (15 until Swagger UI was served from our own static files, issue 17;"
        " 16 until Django signed with ES256, whose `cryptography` binding is ~5 MiB zipped, issue 14).",
    ]
    return "\n".join(lines)
