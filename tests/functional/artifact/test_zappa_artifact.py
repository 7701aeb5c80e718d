"""The packaged Zappa artifact answers API Gateway events in an isolated Python, as on Lambda."""

from __future__ import annotations

import base64
import gzip
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.job_message import JobMessage
from infra.lambda_sandbox import invoke, unzip
from tests.aws import aws_client, drain, new_queue
from tests.lambda_events import http_v2_event, rest_v1_event
from tests.signing_keys import key_pem

pytestmark = [pytest.mark.package, pytest.mark.slow]

# 15 MiB until Swagger UI came from our own static files (issue 17: ~1.1 MiB zipped, its source
# maps dropped) instead of a CDN; 16 until Django signed its tokens with ES256 (issue 14:
# cryptography's Rust binding, ~5 MiB zipped; Lambda takes 50 MB zipped).
SIZE_TARGET_BYTES = 21 * 2**20
HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"


@pytest.fixture(scope="module")
def artifact(zappa_dev_artifact: Path) -> Path:
    return zappa_dev_artifact


@pytest.fixture(scope="module")
def artifact_dir(artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unzip(artifact, tmp_path_factory.mktemp("artifact"))


@pytest.fixture
def ssm_secrets(aws_endpoint: str) -> Iterator[dict[str, str]]:
    """The stage's parameters, in SSM (moto) under the prefixes zappa_settings.json names: the
    signing key under the issuer's own path."""
    ssm = aws_client("ssm")
    values = {
        "/polyglot-issuer/dev/auth-signing-key": key_pem("artifact"),
        "/polyglot/dev/api-base-url": "https://api.example.test",
        "/polyglot/dev/jobs-queue-url": new_queue("artifact-jobs"),
    }
    for name, value in values.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    yield {name.rsplit("/", 1)[-1]: value for name, value in values.items()}
    for name in values:
        ssm.delete_parameter(Name=name)


def environment(aws_endpoint: str, database: Path) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "polyglot-dev",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SECRET_KEY": "artifact-test-secret-key-" + "s" * 40,
        # The Lambda settings install no sample tasks (django_app/demo); a stage names them like this.
        "JOBS_EXTRA_TASK_MODULES": "django_app.demo.tasks",
    }


def test_artifact_is_small_and_has_trusted_bytecode(artifact: Path) -> None:
    assert artifact.stat().st_size <= SIZE_TARGET_BYTES
    with zipfile.ZipFile(artifact) as archive:
        names = archive.namelist()
        assert "handler.py" in names
        assert "zappa_settings.py" in names
        pyc = [name for name in names if name.endswith(".pyc")]
        assert len(pyc) > 500
        for name in pyc[:: max(1, len(pyc) // 50)]:
            flags = int.from_bytes(archive.read(name)[4:8], "little")
            assert flags == 0b01, f"{name} is not an unchecked-hash pyc (flags {flags:#b})"
        assert not any(name.startswith(("boto3/", "botocore/", "tests/", "node_modules/")) for name in names)


def test_artifact_answers_api_gateway_events(
    artifact_dir: Path, aws_endpoint: str, tmp_path: Path, ssm_secrets: dict[str, str]
) -> None:
    env = environment(aws_endpoint, tmp_path / "db.sqlite3")
    create_user = (
        "from django.contrib.auth.models import User\n"
        "from django_app.accounts.tokens import api_token_create\n"
        "user = User.objects.create_user('robot')\n"
        "open('TOKEN_PATH', 'w').write(api_token_create(user=user, name='artifact')[1])\n"
    ).replace("TOKEN_PATH", str(tmp_path / "token"))
    setup = invoke(artifact_dir, [{"manage": "migrate --noinput"}, {"raw_command": create_user}], env=env)
    assert "django_app.jobs" in setup["modules"]
    token = (tmp_path / "token").read_text()
    https = {"X-Forwarded-Proto": "https", "Host": HOST}

    answered = invoke(
        artifact_dir,
        [
            rest_v1_event(path="/api/health/", headers=https),
            http_v2_event(path="/api/health/", headers=https),
            rest_v1_event(path="/admin/login/", headers={**https, "Accept": "text/html"}),
            rest_v1_event(
                method="POST",
                path="/api/jobs/",
                headers={**https, "Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                body=json.dumps({"task": "countdown", "params": {"seconds": 1}}),
            ),
            http_v2_event(path="/api/jobs/", headers={**https, "Authorization": "Bearer pgt_wrong"}),
        ],
        env=env,
    )
    rest_health, http_health, login, submitted, refused = answered["responses"]

    assert rest_health["statusCode"] == 200, answered["log"]
    assert json.loads(rest_health["body"]) == {"status": "ok"}
    assert rest_health["headers"]["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "frame-ancestors 'none'" in rest_health["headers"]["Content-Security-Policy"]
    assert http_health["statusCode"] == 200
    assert json.loads(http_health["body"]) == {"status": "ok"}

    assert login["statusCode"] == 200
    page = login["body"] if not login.get("isBase64Encoded") else base64.b64decode(login["body"]).decode()
    assert "csrfmiddlewaretoken" in page
    stylesheet = re.search(r'href="(/dev/static/admin/css/[^"]+\.css)"', page)
    assert stylesheet, page[:3000]

    assert submitted["statusCode"] == 202, submitted
    job = json.loads(submitted["body"])
    messages = drain(ssm_secrets["jobs-queue-url"])
    assert [JobMessage.model_validate_json(m["Body"]).job_id for m in messages] == [__import__("uuid").UUID(job["id"])]
    assert refused["statusCode"] == 401

    css_path = stylesheet.group(1).removeprefix("/dev")
    css = invoke(
        artifact_dir,
        [rest_v1_event(path=css_path, headers={**https, "Accept-Encoding": "gzip"})],
        env=env,
    )["responses"][0]
    assert css["statusCode"] == 200
    body: Any = base64.b64decode(css["body"]) if css.get("isBase64Encoded") else css["body"].encode()
    if css.get("headers", {}).get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert b"{" in body
    assert css["headers"]["Content-Type"].startswith("text/css")


def test_a_cold_health_check_imports_neither_boto3_nor_the_admin(
    artifact_dir: Path, aws_endpoint: str, tmp_path: Path
) -> None:
    env = {
        **environment(aws_endpoint, tmp_path / "db.sqlite3"),
        "AUTH_SIGNING_KEY": key_pem("artifact"),
        "AUTH_SIGNING_KEY_NEXT": "",
        "AUTH_SIGNING_KEY_PREVIOUS": "",
        "AUTH_ISSUER": "https://api.example.test",
        "JOBS_QUEUE_URL": "unused",
        "JOBS_LONG_QUEUE_URL": "unused",
        "JOB_EVENTS_TOPIC_ARN": "unused",
        "WEBSOCKET_URL": "",
        "WEBHOOKS_API_URL": "",
        "CUSTOM_DOMAINS": "",
    }
    result = invoke(artifact_dir, [rest_v1_event(path="/api/health/", headers={"X-Forwarded-Proto": "https"})], env=env)
    assert result["responses"][0]["statusCode"] == 200
    assert "boto3" not in result["modules"]
    # Lazy URL areas, admin discovered on first visit, tasks registered on first look-up (the sample
    # tasks that environment() names, and any installed app's tasks.py).
    for lazy in ["django_app.jobs.apis", "django_app.jobs.admin", "django_app.demo.tasks", "drf_spectacular.views"]:
        assert lazy not in result["modules"], lazy
