"""Lambda's context object, for running handlers outside Lambda (tests, benchmarks, local stack).

Standard library only: isolated interpreters load this file by path.
"""

from __future__ import annotations

import time
import uuid


class LambdaContext:
    """The attributes of Lambda's context that handlers, Zappa, Mangum and Powertools read."""

    def __init__(
        self,
        *,
        function_name: str = "polyglot-dev",
        timeout_seconds: float = 30.0,
        memory_mb: int = 1024,
        request_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
