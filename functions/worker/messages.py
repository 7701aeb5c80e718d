"""Adapter: an SQS record's body → ``JobMessage``. Pure; anything unreadable is a ``PoisonMessage``."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from contracts.job_message import JobMessage
from django_app.jobs.worker_types import PoisonMessage

SUPPORTED_VERSIONS = (1,)


def job_message_parse(*, body: str) -> JobMessage:
    try:
        data: Any = json.loads(body)
    except (TypeError, ValueError):
        raise PoisonMessage("not_json", f"body is not JSON: {body[:80]!r}") from None
    if not isinstance(data, dict):
        raise PoisonMessage("invalid_message", f"body is JSON but not an object: {type(data).__name__}")
    if data.get("v") not in SUPPORTED_VERSIONS:
        raise PoisonMessage(
            "wrong_version", f"schema version {data.get('v')!r}; this worker reads {SUPPORTED_VERSIONS}"
        )
    try:
        return JobMessage.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_url=False)
        )
        raise PoisonMessage("invalid_message", problems[:300]) from None
