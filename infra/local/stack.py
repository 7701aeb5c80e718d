"""``LocalStack``: the local stack as tests and benchmarks use it, started exactly as ``make run``
starts it (``python -m infra.local``) in a child process on free ports, and stopped with SIGINT.

    with LocalStack(state_dir=tmp, schedule_seconds={"polyglot-local-sweep": 1}) as stack:
        stack.http_url, stack.ws_url, stack.management_url, stack.aws_endpoint
        token = stack.create_token()
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from infra.check.config import REPO, SERVERLESS, ZAPPA, load_zappa, zappa_stage
from infra.local.config import STAGE
from infra.local.moto_server import FAKE_CREDENTIALS
from infra.local.setup import DEMO_PASSWORD, DEMO_USERNAME, local_secrets

START_TIMEOUT = 120.0  # a first start compiles bytecode for four functions on a small machine


class StackError(RuntimeError):
    pass


class LocalStack:
    demo_username = DEMO_USERNAME
    demo_password = DEMO_PASSWORD

    def __init__(
        self,
        *,
        state_dir: Path | None = None,
        serverless_path: Path = SERVERLESS,
        zappa_path: Path = ZAPPA,
        params: dict[str, Any] | None = None,
        schedule_seconds: dict[str, float] | None = None,
        idle_timeout: float | None = None,
        max_connection_seconds: float | None = None,
        concurrency: int | None = None,
        pollers: int | None = None,
        database_url: str | None = None,
        environment: dict[str, str] | None = None,
        throttle_share: float | None = None,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="local-stack-") if state_dir is None else None
        self.state_dir: Path = Path(self._tmp.name) if self._tmp else Path(str(state_dir))
        self.log_path = self.state_dir / "stack.log"
        self.ready_path = self.state_dir / "ready.json"
        self.command = [
            sys.executable, "-m", "infra.local",
            "--http-port", "0", "--ws-port", "0", "--webhooks-port", "0",
            "--state-dir", str(self.state_dir),
            "--serverless", str(serverless_path),
            "--zappa", str(zappa_path),
            "--ready-file", str(self.ready_path),
            "--params", json.dumps(params or {}),
            "--schedule-seconds", json.dumps(schedule_seconds or {}),
        ]  # fmt: skip
        for flag, value in (
            ("--idle-timeout", idle_timeout),
            ("--max-connection-seconds", max_connection_seconds),
            ("--concurrency", concurrency),
            ("--pollers", pollers),
            ("--throttle-share", throttle_share),
        ):
            if value is not None:
                self.command += [flag, str(value)]
        for key, text in (environment or {}).items():
            self.command += ["--env", f"{key}={text}"]
        if database_url:
            # The tests' and the soak's databases are their own throwaway ones: the demo user the
            # helpers log in as may be made there (make run alone refuses: infra/local/setup.py).
            self.command.append("--demo-user-anywhere")
        self.database_url = database_url
        # The settings the stack's Django runs with (the stage's Zappa django_settings): the helpers
        # below run management commands with them, so a project with its own user model works.
        self.django_settings = str(zappa_stage(load_zappa(zappa_path), STAGE)["django_settings"])
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> LocalStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.ready_path.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "SSM_"))}
        env.pop("DATABASE_URL", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready_path.exists():
            if self.process.poll() is not None:
                raise StackError(f"the stack exited with {self.process.returncode}:\n{self.logs()[-4000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise StackError(f"the stack did not start in {START_TIMEOUT:.0f} s:\n{self.logs()[-4000:]}")
            time.sleep(0.05)
        self.info = json.loads(self.ready_path.read_text())
        return self

    def stop(self, *, timeout: float = 30.0) -> int:
        """SIGINT (Ctrl-C), as a developer stops ``make run``; returns the exit code."""
        process, self.process = self.process, None
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return int(process.returncode)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    # --- what tests use --------------------------------------------------------------------------

    @property
    def http_url(self) -> str:
        return str(self.info["http_url"])

    @property
    def ws_url(self) -> str:
        return str(self.info["ws_url"])

    @property
    def webhooks_url(self) -> str:
        return str(self.info["webhooks_url"])

    @property
    def management_url(self) -> str:
        return str(self.info["management_url"])

    @property
    def aws_endpoint(self) -> str:
        return str(self.info["aws_endpoint"])

    @property
    def pid(self) -> int:
        return int(self.info["pid"])

    def django_env(self) -> dict[str, str]:
        """The environment of a management command on the stack's Django: its settings, database
        and secret key (settings written for a stage may insist on one, as the Lambda ones do)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "SSM_"))}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": self.django_settings,
                "DATABASE_URL": self.info["database_url"],
                "DJANGO_SECRET_KEY": local_secrets()["DJANGO_SECRET_KEY"],
            }
        )
        return env

    def create_token(self, *, username: str = DEMO_USERNAME, name: str = "tests") -> str:
        """An API token for ``username`` (``manage.py create_api_token`` on the stack's database)."""
        completed = subprocess.run(
            [sys.executable, "manage.py", "create_api_token", username, "--name", name],
            cwd=REPO, env=self.django_env(), capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return completed.stdout.strip().splitlines()[-1]

    def create_user(self, username: str, password: str) -> str:
        """Creates a user whose USERNAME_FIELD (username, or a project's e-mail) is ``username``;
        returns its primary key (a project's may be a UUID: its ``user:<pk>`` topic)."""
        script = (
            "import django; django.setup()\n"
            "from django.contrib.auth import get_user_model\n"
            "import sys; model = get_user_model()\n"
            "user = model._default_manager.create_user(**{model.USERNAME_FIELD: sys.argv[1]}, password=sys.argv[2])\n"
            "print(user.pk)\n"
        )
        completed = subprocess.run(
            [sys.executable, "-c", script, username, password],
            cwd=REPO, env=self.django_env(), check=True, timeout=60, capture_output=True, text=True,
        )  # fmt: skip
        return completed.stdout.strip().splitlines()[-1]

    def deactivate_user(self, username: str) -> None:
        """``user.is_active = False; user.save()`` as an operator's ``manage.py shell`` would, against
        the stack's database and its AWS (so Django publishes ``user.deactivated`` to its topic)."""
        script = (
            "import django; django.setup()\n"
            "from django.contrib.auth import get_user_model\n"
            "import sys; user = get_user_model()._default_manager.get_by_natural_key(sys.argv[1])\n"
            "user.is_active = False; user.save()\n"
        )
        env = {
            **self.django_env(),
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "SSM_PARAMETER_PREFIX": f"/polyglot/{STAGE}",
        }
        subprocess.run(
            [sys.executable, "-c", script, username],
            cwd=REPO, env=env, check=True, timeout=60, capture_output=True,
        )  # fmt: skip

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, pattern: str, *, timeout: float = 30.0, count: int = 1) -> list[re.Match[str]]:
        """Waits until ``pattern`` matches ``count`` lines of the stack's log stream."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            matches = [m for line in self.logs().splitlines() if (m := compiled.search(line))]
            if len(matches) >= count:
                return matches
            if time.monotonic() > deadline or (self.process is not None and self.process.poll() is not None):
                raise StackError(f"no {count} line(s) matching {pattern!r} in {timeout} s:\n{self.logs()[-3000:]}")
            time.sleep(0.1)
