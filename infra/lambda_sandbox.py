"""Runs Lambda handlers from an unzipped artifact in a fresh, isolated interpreter.

The child sees only the artifact and what Lambda's Python runtime provides (boto3 and its
dependencies), never this virtualenv, so an import the artifact lacks fails here as on Lambda.
It runs with ``-B`` because Lambda's task root is read-only: recompiled bytecode is never kept.
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
CONTEXT_MODULE = Path(__file__).with_name("lambda_context.py")

CHILD = r"""
import importlib.util, json, os, sys
artifact, runtime, context_path, handler_spec, events_path, out_path = sys.argv[1:7]
sys.path[0:0] = [artifact, runtime]
os.chdir(artifact)  # Lambda runs handlers from /var/task
spec = importlib.util.spec_from_file_location("lambda_context", context_path)
context_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(context_module)
module_name, function_name = handler_spec.rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), function_name)
responses = [handler(event, context_module.LambdaContext()) for event in json.load(open(events_path))]
json.dump({"responses": responses, "modules": sorted(sys.modules)}, open(out_path, "w"), default=str)
"""


def lambda_runtime_dir(root: Path) -> Path:
    """A folder of links to boto3 and its dependencies, as Lambda's runtime provides them."""
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


def child_command(
    artifact_dir: Path, runtime: Path, handler: str, events: Path, out: Path, *, python_flags: tuple[str, ...] = ()
) -> list[str]:
    return [
        sys.executable,
        "-I",
        "-S",
        "-B",
        *python_flags,
        "-c",
        CHILD,
        str(artifact_dir),
        str(runtime),
        str(CONTEXT_MODULE),
        handler,
        str(events),
        str(out),
    ]


def invoke(
    artifact_dir: Path,
    events: list[dict[str, Any]],
    *,
    env: dict[str, str],
    handler: str = "handler.lambda_handler",
    timeout: float = 120,
) -> dict[str, Any]:
    """Feeds the events, in order, to one fresh process's handler; returns responses, modules, log."""
    with tempfile.TemporaryDirectory(prefix="invoke-") as temp:
        work = Path(temp)
        (work / "events.json").write_text(json.dumps(events))
        runtime = lambda_runtime_dir(work)
        child_env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **env}
        completed = subprocess.run(
            child_command(artifact_dir, runtime, handler, work / "events.json", work / "out.json"),
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"handler process failed:\n{completed.stdout}\n{completed.stderr}")
        result = dict(json.loads((work / "out.json").read_text()))
        result["log"] = completed.stdout + completed.stderr
        return result
