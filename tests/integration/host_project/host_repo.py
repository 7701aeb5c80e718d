"""A host's repository, built in a folder: our serverless.yml and zappa_settings.json with the host's
settings module, and the worker's package root (``module: .lambda/worker``) holding the shared trees
plus the host's own package, as a host that adopts our apps would lay it out.

The local stack resolves each function's ``module:`` against serverless.yml's folder, and runs
Zappa's settings command in zappa_settings.json's folder (its ``attach_policy`` file is read there),
so those are what the folder needs. The Django function runs from this repository's root, where the
host package (``tests.host_project``) imports as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from infra.check.config import REPO, SERVERLESS, ZAPPA

HOST_PACKAGE = REPO / "tests" / "host_project"
HOST_SETTINGS = "tests.host_project.settings_lambda"
# What serverless.yml's Django functions (the workers) name; the host names its own settings instead.
OUR_LAMBDA_SETTINGS = "DJANGO_SETTINGS_MODULE: django_app.config.settings.lambda_"


@dataclass(frozen=True)
class HostRepo:
    root: Path
    serverless: Path
    zappa: Path


def build_host_repo(root: Path) -> HostRepo:
    serverless = root / "serverless.yml"
    text = SERVERLESS.read_text()
    assert OUR_LAMBDA_SETTINGS in text, "serverless.yml no longer names the workers' settings: update this"
    serverless.write_text(text.replace(OUR_LAMBDA_SETTINGS, f"DJANGO_SETTINGS_MODULE: {HOST_SETTINGS}"))

    zappa = root / "zappa_settings.json"
    stages = json.loads(ZAPPA.read_text())
    for stage in stages.values():
        if "django_settings" in stage:
            stage["django_settings"] = HOST_SETTINGS
    zappa.write_text(json.dumps(stages, indent=4))

    _worker_root(root / ".lambda" / "worker")
    # The websocket and push functions ship no Django and nothing of the host: ours, unchanged.
    (root / ".lambda" / "websocket").symlink_to(REPO / ".lambda" / "websocket")
    # The Node functions (module ".") run the webhooks bundle from serverless.yml's folder.
    (root / "functions").symlink_to(REPO / "functions")
    # The package roots' requirements.txt name ../../requirements/; Zappa's attach_policy, infra/iam/.
    (root / "requirements").symlink_to(REPO / "requirements")
    (root / "infra").mkdir()
    (root / "infra" / "iam").symlink_to(REPO / "infra" / "iam")
    return HostRepo(root=root, serverless=serverless, zappa=zappa)


def _worker_root(folder: Path) -> None:
    """Our worker's package root (every shared tree it links, its requirements.txt), plus a
    ``tests`` package holding only the host's package: never the rest of our tests."""
    folder.mkdir(parents=True)
    ours = REPO / ".lambda" / "worker"
    for entry in sorted(ours.iterdir()):
        if entry.is_symlink():
            (folder / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
        elif entry.is_file():
            (folder / entry.name).write_bytes(entry.read_bytes())
    tests = folder / "tests"
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    (tests / "host_project").symlink_to(HOST_PACKAGE, target_is_directory=True)
