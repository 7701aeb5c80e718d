"""A host project's settings, written as a team adding our apps to its own project would write them.

Nothing comes from django_app.config.settings: the host has its own user model (people.Person, keyed
by UUID, logging in by e-mail), installs django_app.accounts and django_app.jobs, and its own app
``reports`` whose tasks.py registers a task. docs/settings.md lists the settings our apps read.
SQLite, or the PostgreSQL that DATABASE_URL names (the PostgreSQL pass).
"""

from __future__ import annotations

import os

import dj_database_url

from polyglot_auth.jwk import private_key_generate_pem

SECRET_KEY = "host-project-test-secret-key-" + "h" * 40
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "rest_framework",
    "drf_spectacular",
    "tests.host_project.people",
    "tests.host_project.reports",
    "django_app.accounts",
    "django_app.jobs",
]
AUTH_USER_MODEL = "people.Person"

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.host_project.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

_database_url = os.environ.get("DATABASE_URL", "")
if _database_url.startswith(("postgres://", "postgresql://")):
    DATABASES = {"default": dj_database_url.parse(_database_url)}
    DATABASES["default"]["TEST"] = {"NAME": f"test_host_project_{os.getpid()}"}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Our API's authentication, permissions and error shape (docs/settings.md, "REST framework").
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "django_app.accounts.authentication.BearerTokenAuthentication",
        "django_app.accounts.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "django_app.accounts.permissions.NotAServiceCredential",
    ],
    "EXCEPTION_HANDLER": "django_app.config.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The issuer: a fresh signing key per process, nothing to leak.
AUTH_SIGNING_KEY = private_key_generate_pem()
AUTH_ISSUER = "http://testserver"
AUTH_ACCESS_TOKEN_TTL_SECONDS = 300
AUTH_SERVICES = {
    "webhooks": {
        "description": "Webhook endpoints and deliveries.",
        "scopes": {"webhooks:read": None, "webhooks:write": None},
        "permissions": ["introspect", "jobs:read"],
    },
}
TICKET_TTL_SECONDS = 30
RATE_LIMITS = {
    "window_seconds": 60,
    "login_per_ip": 1000,
    "login_failures_per_username": 1000,
    "login_per_username": 1000,
    "tickets_per_user": 1000,
    "tickets_per_ip": 1000,
    "grants_per_user": 1000,
    "introspections_per_user": 1000,
    "tokens_per_user": 1000,
}
API_DOCS = "off"

# The jobs: set per test to a fresh queue and topic on moto (tests/conftest.py).
JOBS_QUEUE_URL = ""
JOBS_LONG_QUEUE_URL = ""
JOBS_QUEUES = {
    "default": {"url": JOBS_QUEUE_URL, "function_timeout": 300},
    "long": {"url": JOBS_LONG_QUEUE_URL, "function_timeout": 900},
}
# Django's Tasks API runs on our workers.
TASKS = {"default": {"BACKEND": "django_app.jobs.tasks_backend.SqsLambdaBackend", "QUEUES": ["default", "long"]}}
JOB_EVENTS_TOPIC_ARN = ""
WEBSOCKET_URL = "wss://ws.host.example/live"
WEBHOOKS_API_URL = ""
JOB_PARAMS_MAX_BYTES = 64 * 1024
JOB_RESULT_MAX_BYTES = 256 * 1024
JOB_EVENT_RESULT_MAX_BYTES = 96 * 1024
