"""Settings shared by every place the Django function runs. Inputs come only from ``env``."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from contracts.event_result import EVENT_RESULT_MAX_BYTES
from django_app.config import env

REPO_ROOT = Path(__file__).resolve().parents[3]
LOCAL_DIR = REPO_ROOT / ".local"

SECRET_KEY = env.str_("DJANGO_SECRET_KEY", ssm=True)
# Django issues every token (tickets, grants, access tokens) signed with ES256, and publishes only
# the public keys (/.well-known/jwks.json): services verify offline and can never mint. Each slot is
# an EC P-256 private key as PEM (accounts/signing_keys.py): the current key signs; the next one is
# published before it signs; the previous one stays published until its tokens have expired.
# They live under a path of their own, which only the Django function may read (config/env.py).
_ISSUER_PATH = "SSM_ISSUER_PARAMETER_PREFIX"
AUTH_SIGNING_KEY = env.str_("AUTH_SIGNING_KEY", "", ssm=True, ssm_prefix=_ISSUER_PATH)
AUTH_SIGNING_KEY_NEXT = env.str_("AUTH_SIGNING_KEY_NEXT", "", ssm=True, ssm_prefix=_ISSUER_PATH)
AUTH_SIGNING_KEY_PREVIOUS = env.str_("AUTH_SIGNING_KEY_PREVIOUS", "", ssm=True, ssm_prefix=_ISSUER_PATH)
# ``iss`` of every token: Django's public base URL, which every verifier is configured with.
AUTH_ISSUER = (env.str_("AUTH_ISSUER", "") or env.str_("API_BASE_URL", "", ssm=True)).rstrip("/")
# Access tokens for other services (POST /api/auth/token/): at most 5 minutes (contracts/access_tokens.py).
AUTH_ACCESS_TOKEN_TTL_SECONDS = env.int_("AUTH_ACCESS_TOKEN_TTL_SECONDS", 300)
# The services Django issues tokens for, by audience (accounts/registry.py):
# - "scopes": scope → the Django permission a user needs to be given it (None: any active user);
# - "permissions": what that service's own credential may be allowed (create_service_credential).
AUTH_SERVICES: dict[str, dict[str, object]] = {
    "webhooks": {
        "description": "Webhook endpoints and deliveries of job events (functions/webhooks).",
        "scopes": {"webhooks:read": None, "webhooks:write": None},
        "permissions": ["introspect", "jobs:read"],
    },
}
TICKET_TTL_SECONDS = env.int_("TICKET_TTL_SECONDS", 30)

# Rate limits of logging in, of minting tickets, grants and tokens, and of introspection
# (docs/security.md), counted in the database so every container sees the same counts. Each is
# requests per fixed window; 0 turns one off. RATE_LIMIT_<NAME> in the environment overrides a
# default (a soak test raises them).
RATE_LIMIT_DEFAULTS = {
    "window_seconds": 60,
    "login_per_ip": 30,  # every login POST from one address
    "login_failures_per_username": 10,  # failed logins for one username from one address
    "tickets_per_user": 30,  # a page load mints one; reconnects mint more
    "tickets_per_ip": 120,  # roomier than per user: an office or a mobile carrier shares one address
    # Every login POST for one username, from any address: many addresses guessing one password.
    # Higher than per address, since anyone can spend it (a nuisance for a minute, not a lockout).
    "login_per_username": 50,
    "grants_per_user": 60,  # one per job submitted while a page is open
    "introspections_per_user": 600,  # per service credential: a service introspects per request
    "tokens_per_user": 30,  # POST /api/auth/token/ (TokenExchangeThrottle): one per page load or service
}
RATE_LIMITS = {name: env.int_(f"RATE_LIMIT_{name.upper()}", default) for name, default in RATE_LIMIT_DEFAULTS.items()}
if RATE_LIMITS["window_seconds"] < 1 or min(RATE_LIMITS.values()) < 0:
    raise env.ConfigError(f"rate limits must be >= 0 and the window >= 1 second, got {RATE_LIMITS}")

DEBUG = False
ALLOWED_HOSTS = env.list_("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    # Admin modules are discovered when the admin is first visited (config/admin_urls.py).
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from our origin (no CDN)
    "django_app.accounts",
    "django_app.jobs",
    "django_app.web",
    # No app with tasks here: a deployed stage runs only the tasks of the apps it adds. The sample
    # tasks (django_app.demo) are installed by settings/local.py and settings/test.py.
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_app.config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it calls the view itself, again after a lost database connection (db_retry.py).
    "django_app.config.db_retry.DatabaseRetryMiddleware",
]

ROOT_URLCONF = "django_app.config.urls"
WSGI_APPLICATION = "django_app.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.str_("DATABASE_URL", f"sqlite:///{LOCAL_DIR / 'db.sqlite3'}", ssm=True),
        conn_max_age=env.int_("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Same backend, but a refused connection is retried (a restart waits instead of failing).
    DATABASES["default"]["ENGINE"] = "django_app.config.db_backends.postgresql"
DATABASE_CONNECT_RETRY_SECONDS = env.int_("DATABASE_CONNECT_RETRY_SECONDS", 10)
# A persistent connection that answered within this long is not pinged again (db_backends/postgresql).
DATABASE_HEALTH_CHECK_TRUST_SECONDS = env.float_("DATABASE_HEALTH_CHECK_TRUST_SECONDS", 1.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = REPO_ROOT / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Request bodies: the job params limit is enforced per field; this caps the whole body.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "django_app.accounts.authentication.BearerTokenAuthentication",
        "django_app.accounts.authentication.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "django_app.accounts.permissions.NotAServiceCredential",
    ],
    # DRF's JSON parser, answering 400 to JSON nested too deeply to parse (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["django_app.config.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "django_app.config.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Polyglot jobs API",
    "DESCRIPTION": "Submit jobs, follow them over WebSocket or by polling, and verify tokens.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar's static files, never a CDN (config/api_docs.py).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "django_app.config.openapi.document_errors",  # the 4xx answers of config.errors
    ],
}

# Who may read /api/schema/ and /api/docs/: public | staff | off (config/api_docs.py). Lambda
# defaults to staff.
API_DOCS_CHOICES = ("public", "staff", "off")
API_DOCS = env.choice_("API_DOCS", "public", choices=API_DOCS_CHOICES)

# Where jobs go and where their events are published. Names, not IDs: on Lambda they come
# from SSM parameters that the serverless stack exports.
JOBS_QUEUE_URL = env.str_("JOBS_QUEUE_URL", "", ssm=True)
# The queue of long tasks, consumed by a worker function with a longer timeout (serverless.yml's
# workerLong); SSM parameter jobs-long-queue-url.
JOBS_LONG_QUEUE_URL = env.str_("JOBS_LONG_QUEUE_URL", "", ssm=True)
# The queues by name (a job's queue_name, django-tasks' queue_name) and the timeout of the worker
# function each one triggers: a task whose timeout plus WORKER_TIME_MARGIN_SECONDS exceeds it is
# refused when declared (django_app/jobs/queue.py). Keep function_timeout equal to serverless.yml's.
JOBS_QUEUES = {
    "default": {"url": JOBS_QUEUE_URL, "function_timeout": 300},
    "long": {"url": JOBS_LONG_QUEUE_URL, "function_timeout": 900},
}
# Django's Tasks API (the django-tasks backport): .enqueue() becomes a job on our SQS workers
# (docs/tasks.md). The backport needs no INSTALLED_APPS entry: it has no models, and our backend
# registers tasks itself.
TASKS = {
    "default": {
        "BACKEND": "django_app.jobs.tasks_backend.SqsLambdaBackend",
        "QUEUES": list(JOBS_QUEUES),
    },
}
JOB_EVENTS_TOPIC_ARN = env.str_("JOB_EVENTS_TOPIC_ARN", "", ssm=True)
WEBSOCKET_URL = env.str_("WEBSOCKET_URL", "", ssm=True)
# The webhooks service's HTTP API (functions/webhooks), e.g. https://abc.execute-api.../ : the page's
# Webhooks panel calls it straight from the browser with an access token for audience "webhooks"
# (POST /api/auth/token/), and the CSP lets the page connect to its origin. Empty: no panel.
# On Lambda it comes from the SSM parameter <SSM_PARAMETER_PREFIX>/webhooks-api-url.
WEBHOOKS_API_URL = env.str_("WEBHOOKS_API_URL", "", ssm=True).rstrip("/")
JOB_PARAMS_MAX_BYTES = env.int_("JOB_PARAMS_MAX_BYTES", 64 * 1024)
JOB_RESULT_MAX_BYTES = env.int_("JOB_RESULT_MAX_BYTES", 256 * 1024)
# Per-user quota of unfinished (queued or running) jobs: job_submit refuses more with 429
# `quota_exceeded` (django_app/jobs/quota.py). 0 turns it off; the system user is exempt.
JOBS_MAX_UNFINISHED_PER_USER = env.int_("JOBS_MAX_UNFINISHED_PER_USER", 100)
if JOBS_MAX_UNFINISHED_PER_USER < 0:
    raise env.ConfigError(f"JOBS_MAX_UNFINISHED_PER_USER must be >= 0 (0: off), not {JOBS_MAX_UNFINISHED_PER_USER}")
# A job event carries its result up to this size; a larger one travels as `result_url` (the rule
# and its default: contracts/event_result.py). Tests lower it to send ordinary results by link.
JOB_EVENT_RESULT_MAX_BYTES = env.int_("JOB_EVENT_RESULT_MAX_BYTES", EVENT_RESULT_MAX_BYTES)
# Installed apps' tasks.py modules register their tasks (jobs/registry.py); these modules too, for
# tasks outside an app's tasks.py (the soak's django_app.demo.soak_tasks, or the sample tasks on a
# stage that wants them: django_app.demo.tasks).
JOBS_EXTRA_TASK_MODULES = env.list_("JOBS_EXTRA_TASK_MODULES", [])
# The worker's and the sweeps' timings (defaults and meaning: django_app/jobs/conf.py), set from
# the environment only when given there (the soak shortens them: tests/soak).
for _knob in (
    "WORKER_RETRY_BASE_SECONDS",
    "WORKER_POISON_VISIBILITY_SECONDS",
    "WORKER_DB_DOWN_BASE_SECONDS",
    "WORKER_FINISH_FLUSH_SECONDS",
    "WORKER_IDEMPOTENT_FLUSH_SECONDS",
    "JOBS_LEASE_GRACE_SECONDS",
    "JOBS_QUEUED_STALE_SECONDS",
):
    if env.str_(_knob, ""):
        globals()[_knob] = env.float_(_knob, 0.0)  # a clear error for a value that is not a number

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str_("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "django.security": {"level": "WARNING"}},
}

# Off Lambda, WhiteNoise serves straight from the apps' static folders (no collectstatic step);
# the Lambda settings serve the collected, hashed copy instead.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
