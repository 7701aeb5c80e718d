"""Running the pinned osls CLI (``npx osls``, package.json) the way operators do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from infra.node_bundle import ensure_bundle

REPO = Path(__file__).resolve().parents[2]


def osls_env(*, endpoint: str | None = None) -> dict[str, str]:
    """Fake credentials and no instance-metadata lookups: packaging must never need AWS, and a
    deploy reaches only the emulator named by ``AWS_ENDPOINT_URL``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SLS_", "SERVERLESS_")) and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "rehearsal",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "SLS_TELEMETRY_DISABLED": "1",
            "SLS_NOTIFICATIONS_MODE": "off",
        }
    )
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def npx() -> str:
    found = shutil.which("npx")
    if not found:
        raise RuntimeError("npx not found: install Node.js 20.19+ and run `npm ci`")
    if not (REPO / "node_modules" / "osls").is_dir():
        raise RuntimeError("node_modules/osls is missing: run `npm ci`")
    return found


def run(
    arguments: list[str], *, endpoint: str | None = None, log: Path, timeout: float = 900, service_dir: Path = REPO
) -> None:
    with log.open("a") as sink:
        completed = subprocess.run(
            [npx(), "--no-install", "osls", *arguments],
            cwd=service_dir,
            env=osls_env(endpoint=endpoint),
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if completed.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise RuntimeError(f"osls {' '.join(arguments)} failed ({completed.returncode}):\n{tail}")


# Discard port on 127.0.0.1, where nothing listens: should packaging ever call AWS, it fails
# at once instead of reaching an account.
NO_AWS = "http://127.0.0.1:9"


# What serverless.yml packages, and what osls needs beside it to run.
SERVICE_ENTRIES = (
    "serverless.yml",
    "package.json",
    "package-lock.json",
    "node_modules",
    ".lambda",
    "functions",
    "contracts",
    "django_app",
    "polyglot_auth",
    "requirements",
)


def linked_service_dir(into: Path) -> Path:
    """A second folder to run osls from: links to this repository's folders, copies of its
    files, and a ``.serverless`` of its own. osls empties its service's ``.serverless`` when it
    starts packaging, and its Python requirements plugin stages files there, so two packages at
    once need two folders. What is packaged is the same files (the links resolve to this
    repository)."""
    into.mkdir(parents=True)
    for name in SERVICE_ENTRIES:
        if (REPO / name).is_dir():
            (into / name).symlink_to(REPO / name)
        else:  # osls does not take a linked serverless.yml for a service's config
            shutil.copy2(REPO / name, into / name)
    return into


def install_requirements(*, stage: str, log: Path) -> None:
    """Fill the requirements plugin's cache (``useStaticCache``) once, so that packages run at
    once from different folders only read it."""
    run(["requirements", "install", "--stage", stage], endpoint=NO_AWS, log=log)


def package(*, stage: str, into: Path, log: Path, service_dir: Path = REPO) -> Path:
    ensure_bundle()  # the Node functions ship functions/webhooks/dist/index.mjs
    shutil.rmtree(into, ignore_errors=True)
    run(["package", "--stage", stage, "--package", str(into)], endpoint=NO_AWS, log=log, service_dir=service_dir)
    return into


def artifact(package_dir: Path, function: str) -> Path:
    """Where a function's zip is in a ``--package`` folder (serverless-state.json names it
    relative to ``.serverless``, the default package folder)."""
    state = json.loads((package_dir / "serverless-state.json").read_text())
    declared = Path(state["service"]["functions"][function]["package"]["artifact"])
    if declared.is_absolute():  # a function without `module` (the Node ones): in the service's folder
        parts = declared.parts
        if ".serverless" not in parts:
            raise ValueError(f"{function}'s artifact {declared} is not in a .serverless folder")
        declared = Path(*parts[len(parts) - 1 - parts[::-1].index(".serverless") :])
    return package_dir / (declared.relative_to(".serverless") if declared.parts[0] == ".serverless" else declared)


def deploy(*, stage: str, package_dir: Path, endpoint: str, log: Path) -> None:
    run(["deploy", "--stage", stage, "--package", str(package_dir)], endpoint=endpoint, log=log)
