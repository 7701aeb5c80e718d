"""The one-machine stack started by ``make run``: SQLite under .local/, plain HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from django_app.config.local_secrets import ensure_local_secrets

ensure_local_secrets(Path(__file__).resolve().parents[3] / ".local")

from urllib.parse import urlsplit  # noqa: E402

from django_app.config import env  # noqa: E402
from django_app.config.settings.base import *  # noqa: E402, F403

# Zappa's handler marks every request HTTPS (API Gateway only speaks TLS), so behind the local
# plain-HTTP gateway Django's CSRF origin check would expect https://… and refuse the browser's
# http://… Origin. The gateway's own origin (the stack's `api-base-url`) is trusted explicitly.
_api_base = urlsplit(env.str_("API_BASE_URL", "", ssm=True))
CSRF_TRUSTED_ORIGINS = [f"{_api_base.scheme}://{_api_base.netloc}"] if _api_base.netloc else []

# The local stack keeps each function's container (process) alive between invocations, as Lambda
# does, so it keeps its database connection as the Lambda settings do: on PostgreSQL (the soak) a
# connection per request or per batch cost a server process and a SCRAM handshake each time.
DATABASES["default"]["CONN_MAX_AGE"] = env.int_("DATABASE_CONN_MAX_AGE", 60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

# The sample tasks (countdown, word_count, csv_summary) for the page and the journey tests; the
# settings a deployed stage runs (lambda_.py) leave them out.
INSTALLED_APPS = [*INSTALLED_APPS, "django_app.demo"]  # noqa: F405
