"""Events about users that Django publishes on the job-events topic beside job events.

``user.deactivated``: the user can no longer sign in; services drop what they hold for that user
(the push side closes the user's WebSocket connections). Published with the SNS message attribute
``type`` set to the event type, so subscribers can filter on it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

UserEventType = Literal["user.deactivated"]


class UserEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    type: UserEventType
    user: str = Field(description="The user's id, as a string.")
    at: dt.datetime
