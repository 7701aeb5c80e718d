"""Scheduled invocations (EventBridge ``schedule`` events with a constant ``input``).

- ``{"sweep": "all"}`` or ``{"sweep": "leases"}`` (``unsent``, ``leases``, ``purge``, ``republish``): runs sweeps.
- ``{"task": "<name>", "params": {...}, "schedule": "<optional name>"}``: submits a periodic job.
"""

from __future__ import annotations

import logging
from typing import Any

from django_app.jobs.errors import JobError
from django_app.jobs.periodic import periodic_job_start
from django_app.jobs.sweeps import SWEEPS, sweeps_run

logger = logging.getLogger(__name__)


def schedule_handle(*, event: dict[str, Any]) -> dict[str, Any]:
    if "sweep" in event:
        wanted = event["sweep"]
        names = SWEEPS if wanted == "all" else (wanted,) if wanted in SWEEPS else ()
        if not names:
            logger.error("unknown sweep %r; known: all, %s", wanted, ", ".join(SWEEPS))
            return {"error": "unknown_sweep"}
        return {"sweeps": sweeps_run(names=names)}
    task_name = event.get("task")
    if not isinstance(task_name, str) or not task_name:
        logger.error("schedule event names neither a sweep nor a task: %s", sorted(event)[:10])
        return {"error": "unknown_schedule_event"}
    try:
        job = periodic_job_start(
            task_name=task_name, params=event.get("params", {}), schedule=str(event.get("schedule", ""))
        )
    except JobError as error:
        # A misconfigured schedule: raising would only make EventBridge retry the same mistake.
        logger.error("scheduled task %r not started: %s %s", task_name, error.code, error.message)
        return {"error": error.code}
    return {"job_id": str(job.pk), "status": job.status}
