"""Runs Lambda handlers from an unzipped artifact in a fresh, isolated interpreter.

The child sees only the artifact and a copy of what Lambda's Python runtime provides (boto3 and
its dependencies), never this virtualenv: an import the artifact lacks fails here as on Lambda.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path
from typing import Any

# What Lambda's python3.11 runtime puts on sys.path besides the function code.
LAMBDA_RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"]

CHILD = r"""
import json, os, sys, time
artifact, runtime, events_path, out_path = sys.argv[1:5]
sys.path[0:0] = [artifact, runtime]
os.chdir(artifact)  # Lambda runs handlers from /var/task
sys.path.insert(0, os.path.dirname(os.path.abspath(events_path)))
from lambda_context_stub import LambdaContext
from handler import lambda_handler
responses = []
for event in json.load(open(events_path)):
    responses.append(lambda_handler(event, LambdaContext()))
json.dump({"responses": responses, "modules": sorted(sys.modules)}, open(out_path, "w"), default=str)
"""


def lambda_runtime_dir(root: Path) -> Path:
    """A folder holding links to boto3 and its dependencies, as Lambda's runtime provides them."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    runtime = root / "lambda-runtime"
    runtime.mkdir(exist_ok=True)
    for name in LAMBDA_RUNTIME_PACKAGES:
        link = runtime / name
        if not link.exists():
            link.symlink_to(site_packages / name)
    return runtime


def unzip(artifact: Path, into: Path) -> Path:
    with zipfile.ZipFile(artifact) as archive:
        archive.extractall(into)
    return into


def invoke(
    artifact_dir: Path, events: list[dict[str, Any]], *, env: dict[str, str], timeout: float = 120
) -> dict[str, Any]:
    """Feeds the events, in order, to one fresh process's handler; returns responses and modules."""
    with tempfile.TemporaryDirectory(prefix="invoke-") as temp:
        work = Path(temp)
        (work / "events.json").write_text(json.dumps(events))
        stub = Path(__file__).with_name("lambda_events.py").read_text()
        (work / "lambda_context_stub.py").write_text(stub)
        runtime = lambda_runtime_dir(work)
        child_env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **env}
        completed = subprocess.run(
            [
                sys.executable,
                "-I",
                "-S",
                "-c",
                CHILD,
                str(artifact_dir),
                str(runtime),
                str(work / "events.json"),
                str(work / "out.json"),
            ],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(f"handler process failed:\n{completed.stdout}\n{completed.stderr}")
        result = dict(json.loads((work / "out.json").read_text()))
        result["log"] = completed.stdout + completed.stderr
        return result
