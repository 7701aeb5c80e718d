"""Tests: SQLite by default, PostgreSQL when DATABASE_URL names it; fast password hashing."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 30)
if "AUTH_SIGNING_KEY" not in os.environ:  # a fresh key per test run: nothing to leak, nothing to share
    from polyglot_auth.jwk import private_key_generate_pem

    os.environ["AUTH_SIGNING_KEY"] = private_key_generate_pem()
os.environ.setdefault("AUTH_ISSUER", "http://testserver")

from django_app.config.settings.base import *  # noqa: F403

# The sample tasks, which most tests submit (settings/local.py installs them too).
INSTALLED_APPS = [*INSTALLED_APPS, "django_app.demo"]  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # One test database per run, so two runs on one server (a developer's and CI's) never collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_polyglot_{os.getpid()}"}  # noqa: F405

# Tests that log in or mint tickets many times (fuzzing, schema tests) stay clear of the limits;
# tests/functional/django_api/test_rate_limit.py puts the production defaults back.
RATE_LIMITS = {name: 100_000 if name != "window_seconds" else value for name, value in RATE_LIMITS.items()}  # noqa: F405

# A refused database connection fails at once in tests (the database-down tests expect it);
# tests/functional/django_api/test_db_reconnect.py turns the retry on where it tests it.
DATABASE_CONNECT_RETRY_SECONDS = 0
