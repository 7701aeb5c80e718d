"""The local stack (``make run``) as a fixture: one per session, on random free ports, SQLite under a
temporary folder unless LOCAL_STACK_DATABASE_URL (else DATABASE_URL, as in ``make test-postgres``)
names another database, e.g. PostgreSQL from ``bash infra/scripts/postgres.sh``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infra.local.stack import LocalStack


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """Yields a running stack: ``http_url``, ``ws_url``, ``management_url``, ``aws_endpoint``,
    ``demo_username``/``demo_password``, ``create_token()``, ``create_user()``, ``logs()``."""
    database_url = os.environ.get("LOCAL_STACK_DATABASE_URL") or os.environ.get("DATABASE_URL")
    with LocalStack(database_url=database_url) as stack:
        yield stack
