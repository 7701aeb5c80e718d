"""The Lambda settings pass Django's deployment checklist with no warnings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.signing_keys import key_pem

REPO = Path(__file__).resolve().parents[3]


def run_manage(*args: str, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SSM_", "DATABASE_URL"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "django_app.config.settings.lambda_",
            "DJANGO_SECRET_KEY": "a-long-random-looking-secret-key-for-the-check-9f8e7d6c5b4a3210zyxwvu",
            "AUTH_SIGNING_KEY": key_pem("django"),
            "AUTH_ISSUER": "https://api.example.test",
            "STAGE": "dev",
            **extra_env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_has_no_warnings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", extra_env={})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_on_a_weak_secret_key() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", extra_env={"DJANGO_SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_allowed_hosts_cover_execute_api_and_custom_domains() -> None:
    code = "from django.conf import settings as s; import json; print(json.dumps([s.ALLOWED_HOSTS, s.STATIC_URL]))"

    def evaluate(extra_env: dict[str, str]) -> object:
        return json.loads(run_manage("shell", "-v0", "-c", code, extra_env=extra_env).stdout.strip().splitlines()[-1])

    plain = evaluate({})
    assert plain == [[".execute-api.us-east-1.amazonaws.com"], "/dev/static/"]
    custom = evaluate({"CUSTOM_DOMAINS": "api.example.com"})
    assert custom == [[".execute-api.us-east-1.amazonaws.com", "api.example.com"], "/static/"]


def test_a_worker_timing_that_is_not_a_finite_number_stops_start_up_naming_it() -> None:
    code = "from django.conf import settings as s; print(s.WORKER_IDEMPOTENT_FLUSH_SECONDS)"
    given = run_manage("shell", "-v0", "-c", code, extra_env={"WORKER_IDEMPOTENT_FLUSH_SECONDS": "0.5"})
    assert given.stdout.strip().splitlines()[-1] == "0.5", given.stderr
    for bad in ("soon", "nan", "inf"):
        result = run_manage("check", extra_env={"WORKER_IDEMPOTENT_FLUSH_SECONDS": bad})
        assert result.returncode != 0
        assert "WORKER_IDEMPOTENT_FLUSH_SECONDS must be a" in result.stderr, result.stderr


def test_the_lambda_settings_register_no_sample_task_unless_a_stage_names_them() -> None:
    code = "from django_app.jobs.registry import task_all; print(','.join(spec.name for spec in task_all()))"
    plain = run_manage("shell", "-v0", "-c", code, extra_env={})
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip().splitlines()[-1:] in ([], [""]), plain.stdout
    named = run_manage("shell", "-v0", "-c", code, extra_env={"JOBS_EXTRA_TASK_MODULES": "django_app.demo.tasks"})
    assert named.stdout.strip().splitlines()[-1] == "countdown,csv_summary,word_count", named.stderr
