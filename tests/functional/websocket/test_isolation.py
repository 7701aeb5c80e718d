"""The websocket package never imports Django: it ships without it and must stay that way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import sys
import functions.websocket.handler, functions.websocket.push
leaked = sorted(name for name in sys.modules if name == "django" or name.startswith(("django.", "django_app")))
heavy = sorted(name for name in ("boto3", "botocore", "jwt", "cryptography") if name in sys.modules)
print(repr((leaked, heavy)))
"""


def test_no_django_in_the_import_graph() -> None:
    # -I: isolated mode, no site customisation or PYTHONPATH; only the repository on the path.
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n{PROBE}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    leaked, heavy = eval(result.stdout.strip())  # noqa: S307 - our own probe's repr of two lists
    assert leaked == []
    # Cold start: none of these is needed to handle a $connect.
    assert heavy == []
