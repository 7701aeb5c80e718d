"""The jobs-queue message: ids only, never parameters, so it stays far below SQS's 256 KiB."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class JobMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = Field(default=1, description="Schema version.")
    job_id: uuid.UUID
    task: str = Field(min_length=1, max_length=100)
    attempt: int = Field(ge=0, description="Attempts already made when the message was sent.")
    correlation_id: str = Field(default="", max_length=100, description="Follows the job across hops.")
