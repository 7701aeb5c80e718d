"""AWS Lambda behind API Gateway (Zappa). ``lambda`` is a keyword, hence the underscore.

Every request is HTTPS at API Gateway, which forwards ``X-Forwarded-Proto: https``.
"""

from __future__ import annotations

from django_app.config import env
from django_app.config.settings.base import *  # noqa: F403

DEBUG = False

_region = env.str_("AWS_REGION", "us-east-1")
# API Gateway's own host for any API id in this region, plus an optional custom domain.
ALLOWED_HOSTS = [f".execute-api.{_region}.amazonaws.com", *env.list_("CUSTOM_DOMAINS")]
CSRF_TRUSTED_ORIGINS = [f"https://{domain}" for domain in env.list_("CUSTOM_DOMAINS")]

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Collected at package time and served from the zip by WhiteNoise, with hashed names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Lambda's file system is read-only and every container is short-lived.
DATABASES["default"]["CONN_MAX_AGE"] = env.int_("DATABASE_CONN_MAX_AGE", 60)  # noqa: F405
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
