"""The Django function as Zappa ships it: the unzipped artifact, run in a fresh isolated process.

Everything it needs that is not in the artifact comes from SSM (MiniStack), as on Lambda: the
queue URL, topic ARN and WebSocket URL that osls wrote, and the secrets the operator put.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.lambda_sandbox import invoke
from infra.rehearse.events import rest_event
from infra.rehearse.gaps import SAMPLE_TASK_MODULES

ADMIN_USERNAME = "rehearsal-admin"


@dataclass(frozen=True)
class DjangoFunction:
    artifact_dir: Path
    stage: str
    endpoint: str
    workdir: Path

    def env(self) -> dict[str, str]:
        # Only what Lambda's environment has: credentials, region, the function name. STAGE and
        # SSM_PARAMETER_PREFIX come from zappa_settings.py inside the artifact.
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "rehearsal",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": f"polyglot-{self.stage}",
            # The journey's sample task, which no stage installs (gaps.add_sample_tasks does the same
            # for the worker).
            "JOBS_EXTRA_TASK_MODULES": SAMPLE_TASK_MODULES,
        }

    def run(self, events: list[dict[str, Any]]) -> list[Any]:
        result = invoke(self.artifact_dir, events, env=self.env(), timeout=180)
        return list(result["responses"])

    def migrate_and_create_admin(self) -> str:
        """``zappa manage <stage> migrate``, then the first admin and an API token for it, as
        ``zappa invoke --raw`` would run them (docs/operations.md)."""
        token_file = self.workdir / "admin-token"
        create_admin = (
            "from django.contrib.auth import get_user_model\n"
            "from django_app.accounts.tokens import api_token_create\n"
            f"user = get_user_model().objects.create_superuser({ADMIN_USERNAME!r}, None, None)\n"
            f"open({str(token_file)!r}, 'w').write(api_token_create(user=user, name='rehearsal')[1])\n"
        )
        self.run([{"manage": "migrate --noinput"}, {"raw_command": create_admin}])
        return token_file.read_text()

    def create_service_credential(self, *, service: str, permissions: list[str]) -> str:
        """``zappa manage <stage> "create_service_credential <service> --permission …"`` (step 6 of
        docs/operations.md): the command itself, its printed credential kept in a file instead of a
        terminal."""
        credential_file = self.workdir / f"{service}-credential"
        arguments = [service, *(word for permission in permissions for word in ("--permission", permission))]
        command = (
            "from django.core.management import call_command\n"
            f"with open({str(credential_file)!r}, 'w') as out:\n"
            f"    call_command('create_service_credential', *{arguments!r}, stdout=out)\n"
        )
        self.run([{"raw_command": command}])
        return credential_file.read_text().strip()

    def request(self, method: str, path: str, *, headers: dict[str, str], body: str | None = None) -> dict[str, Any]:
        """One request as API Gateway hands it to the function; its proxy response as returned."""
        (response,) = self.run([rest_event(method=method, path=path, stage=self.stage, headers=headers, body=body)])
        return dict(response)

    def api(self, method: str, path: str, *, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = self.request(method, path, headers=headers, body=json.dumps(body) if body else None)
        raw = response.get("body") or ""
        if response.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode()
        return int(response["statusCode"]), json.loads(raw) if raw else None
