"""Lambda entry point of the worker (serverless.yml: ``functions/worker/handler.handler``).

Takes either
- an SQS batch event from the jobs queue (``{"Records": [{"messageId", "receiptHandle", "body",
  "attributes": {"ApproximateReceiveCount", ...}, "eventSourceARN", ...}]}``) and returns
  ``{"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}`` (empty when all succeeded;
  needs ``functionResponseType: ReportBatchItemFailures`` on the event source mapping), or
- a scheduled event whose input is ``{"sweep": ...}`` or ``{"task": ..., "params": ...}`` and returns
  a summary (see ``functions.worker.schedule``).

Django is set up once per container, at import (the init phase), not per invocation.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.config.settings.lambda_")
django.setup()

from functions.worker.batch import sqs_batch_handle  # noqa: E402  (needs Django set up)
from functions.worker.schedule import schedule_handle  # noqa: E402

logger = logging.getLogger(__name__)


def handler(event: Any, context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        return sqs_batch_handle(event=event, context=context)
    if isinstance(event, dict) and ("sweep" in event or "task" in event):
        return schedule_handle(event=event)
    logger.error("unrecognised event (%s); ignored", type(event).__name__)
    return {"error": "unrecognised_event"}
