"""CPU-bound processes beside the soak: the stack must keep its pace on a machine that is busy with
something else, not only on an idle one."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

# A busy loop that ends by itself after an hour, should the soak die without stopping it.
_SPIN = "import time\nend = time.monotonic() + 3600\nwhile time.monotonic() < end: pass\n"


@contextlib.contextmanager
def cpu_hogs(count: int) -> Iterator[list[int]]:
    """Runs ``count`` busy loops while the block runs; yields their PIDs and ends them, by PID."""
    hogs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
    try:
        yield [hog.pid for hog in hogs]
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait(timeout=10)
