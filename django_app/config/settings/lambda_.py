"""AWS Lambda behind API Gateway (Zappa). ``lambda`` is a keyword, hence the underscore.

Every request is HTTPS at API Gateway, which forwards ``X-Forwarded-Proto: https``.
"""

from __future__ import annotations

from django_app.config import env
from django_app.config.settings.base import *  # noqa: F403

DEBUG = False
# The schema maps every route and error of the API: on AWS only staff read it unless the stage
# says API_DOCS=public (or off).
API_DOCS = env.choice_("API_DOCS", "staff", choices=API_DOCS_CHOICES)  # noqa: F405

_region = env.str_("AWS_REGION", "us-east-1")
# API Gateway's own host for any API id in this region, plus an optional custom domain.
ALLOWED_HOSTS = [f".execute-api.{_region}.amazonaws.com", *env.list_("CUSTOM_DOMAINS")]
CSRF_TRUSTED_ORIGINS = [f"https://{domain}" for domain in env.list_("CUSTOM_DOMAINS")]

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool_("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# On the execute-api host every URL starts with the stage ("/dev/..."). Zappa strips it from
# PATH_INFO and puts it in SCRIPT_NAME, but Django fixes STATIC_URL's prefix at first use, before
# any request has a SCRIPT_NAME, so the stage is written in. A custom domain maps the API at its
# root. WhiteNoise matches PATH_INFO, which never has the stage.
_stage = env.str_("STAGE", "")
STATIC_URL = f"/{_stage}/static/" if _stage and not env.list_("CUSTOM_DOMAINS") else "/static/"
WHITENOISE_STATIC_PREFIX = "/static/"

# Collected at package time and served from the zip by WhiteNoise, with hashed names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Lambda's file system is read-only and every container is short-lived.
DATABASES["default"]["CONN_MAX_AGE"] = env.int_("DATABASE_CONN_MAX_AGE", 60)  # noqa: F405
# A kept connection the server dropped meanwhile (a restart, an RDS fail-over, an idle timeout) is
# found by a `SELECT 1` at its first use in a request and replaced, instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405
# Templates name the hashed copies only; shipping the originals too would double the static bytes.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
