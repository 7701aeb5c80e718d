"""The host project as it is deployed: its own settings (settings.py), with what a stage provides
read where the stage provides it, as a host would write its Lambda settings.

settings.py fixes queue URLs, keys and an in-memory database for the in-process tests; here every
such value comes from the environment first, then from SSM Parameter Store (``django_app.config.env``,
as django_app/config/settings/base.py reads them): serverless.yml's stack writes the queue and
topic under ``SSM_PARAMETER_PREFIX``, the issuer's keys live under ``SSM_ISSUER_PARAMETER_PREFIX``.
The local stack (tests/integration/host_project) runs it with that stack's values.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import dj_database_url

from django_app.config import env
from tests.host_project.settings import *  # noqa: F403

SECRET_KEY = env.str_("DJANGO_SECRET_KEY", ssm=True)
DATABASES = {
    "default": dj_database_url.parse(
        env.str_("DATABASE_URL", ssm=True),
        # A warm container keeps its connection, as our Lambda settings do.
        conn_max_age=env.int_("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
ALLOWED_HOSTS = env.list_("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])

# The issuer: a key only the Django function holds (a worker signs nothing and gets none).
_ISSUER_PATH = "SSM_ISSUER_PARAMETER_PREFIX"
AUTH_SIGNING_KEY = env.str_("AUTH_SIGNING_KEY", "", ssm=True, ssm_prefix=_ISSUER_PATH)
AUTH_SIGNING_KEY_NEXT = env.str_("AUTH_SIGNING_KEY_NEXT", "", ssm=True, ssm_prefix=_ISSUER_PATH)
AUTH_SIGNING_KEY_PREVIOUS = env.str_("AUTH_SIGNING_KEY_PREVIOUS", "", ssm=True, ssm_prefix=_ISSUER_PATH)
_API_BASE_URL = env.str_("API_BASE_URL", "", ssm=True).rstrip("/")
AUTH_ISSUER = (env.str_("AUTH_ISSUER", "") or _API_BASE_URL).rstrip("/")
# Browsers post (the login form, tickets) from the API's own origin; behind a plain-HTTP gateway
# that origin is not the https:// one Django assumes, so it is trusted by name.
_api_origin = urlsplit(_API_BASE_URL)
CSRF_TRUSTED_ORIGINS = [f"{_api_origin.scheme}://{_api_origin.netloc}"] if _api_origin.netloc else []

# The stack's outputs (serverless.yml's SSM parameters; the worker has the first two in its
# environment). Empty where nothing provides them: `manage.py migrate` needs none of them.
JOBS_QUEUE_URL = env.str_("JOBS_QUEUE_URL", "", ssm=True)
JOBS_LONG_QUEUE_URL = env.str_("JOBS_LONG_QUEUE_URL", "", ssm=True)
JOBS_QUEUES = {
    "default": {"url": JOBS_QUEUE_URL, "function_timeout": 300},
    "long": {"url": JOBS_LONG_QUEUE_URL, "function_timeout": 900},
}
JOB_EVENTS_TOPIC_ARN = env.str_("JOB_EVENTS_TOPIC_ARN", "", ssm=True)
WEBSOCKET_URL = env.str_("WEBSOCKET_URL", "", ssm=True)
WEBHOOKS_API_URL = env.str_("WEBHOOKS_API_URL", "", ssm=True).rstrip("/")
