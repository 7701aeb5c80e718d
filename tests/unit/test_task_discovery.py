"""Tasks come from each installed app's tasks.py, imported at the registry's first look-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A fresh interpreter: this process's registry was loaded long ago by other tests.
PROBE = """
import sys
import django
django.setup()
from django_app.jobs import registry
before = "django_app.demo.tasks" in sys.modules
spec = registry.task_get("countdown")
print(before, spec is not None and spec.function.__module__, "django_app.demo.tasks" in sys.modules)
"""


def test_an_installed_apps_tasks_module_is_imported_at_the_first_look_up_not_at_setup() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env={"DJANGO_SETTINGS_MODULE": "django_app.config.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "django_app.demo.tasks", "True"]
