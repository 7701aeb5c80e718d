"""The stack's one log stream: a line per invocation (function, trigger, duration, correlation id)
and every line the functions write, each tagged with its function and correlation id.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class LogStream:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._lock = threading.Lock()  # pollers' threads and the event loop both write

    def line(self, source: str, text: str, *, correlation_id: str = "") -> None:
        now = time.time()
        stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
        tag = f" [{correlation_id}]" if correlation_id else ""
        with self._lock:
            self.out.write(f"{stamp} {source:<14}{tag} {text.rstrip()}\n")
            self.out.flush()

    def invocation(
        self,
        function: str,
        *,
        trigger: str,
        duration_ms: float,
        outcome: str,
        correlation_id: str = "",
        cold_ms: float | None = None,
    ) -> None:
        cold = f" (cold start {cold_ms:.0f} ms)" if cold_ms is not None else ""
        self.line(
            function,
            f"INVOKE {trigger} {outcome} {duration_ms:.1f} ms{cold}",
            correlation_id=correlation_id,
        )
