"""The job event published on the job-events topic and pushed to browsers.

``seq`` grows on every change of a job; a client keeps the highest it has seen and drops any
event with a lower or equal one, which makes at-least-once delivery safe to display.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JobEventType = Literal["job.queued", "job.running", "job.progress", "job.succeeded", "job.failed", "job.cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


class JobError(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(max_length=64)
    message: str = Field(max_length=2000)


class JobEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    type: JobEventType
    job_id: uuid.UUID
    owner: str = Field(
        description="The owning user's id: the user model's primary key as a string (an integer in decimal, a UUID)."
    )
    seq: int = Field(ge=0)
    task: str
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    note: str = ""
    result: Any = None
    result_url: str | None = Field(
        default=None, description="Set instead of result when the result is too large to push."
    )
    error: JobError | None = None
    at: dt.datetime
    correlation_id: str = ""

    def topics(self) -> tuple[str, str]:
        """The WebSocket topics this event is delivered to."""
        return (f"user:{self.owner}", f"job:{self.job_id}")
