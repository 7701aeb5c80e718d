"""MiniStack (a local AWS emulator, MIT, on PyPI) in its own virtualenv, on 127.0.0.1.

It pins botocore, so it never shares our virtualenv. Its Lambda executor runs Python functions
in subprocesses of its own interpreter, so that virtualenv also stands in for Lambda's runtime:
it holds boto3 (which Lambda provides and our packages leave out) and nothing of ours.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-ministack"
# Exact pins: MiniStack's behaviour is what the rehearsal is checked against. boto3 matches the
# botocore that MiniStack pins, as Lambda's runtime pairs them.
REQUIREMENTS = ["ministack==1.5.33", "boto3==1.43.106"]
STAMP = VENV / ".rehearse-requirements"
HOST = "127.0.0.1"


def ensure_venv() -> Path:
    wanted = "\n".join(REQUIREMENTS)
    if STAMP.exists() and STAMP.read_text() == wanted:
        return VENV
    if not (VENV / "bin" / "python").exists():
        subprocess.run(["python3.11", "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *REQUIREMENTS], check=True)
    STAMP.write_text(wanted)
    return VENV


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class MiniStack:
    endpoint: str
    port: int
    pid: int
    log: Path


def _healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/_ministack/health", timeout=2) as response:  # noqa: S310
            return bool(json.loads(response.read()).get("services"))
    except (OSError, ValueError):
        return False


@contextmanager
def running(*, workdir: Path, startup_timeout: float = 60) -> Iterator[MiniStack]:
    """A fresh MiniStack (in-memory: every run starts empty), stopped by its PID on exit."""
    venv = ensure_venv()
    port = free_port()
    endpoint = f"http://{HOST}:{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "ministack.log"
    # A clean environment: the functions MiniStack runs inherit it, and must see only what Lambda
    # would give them plus their own configuration.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", str(workdir)),
        "GATEWAY_PORT": str(port),
        "BIND_HOST": HOST,
        "MINISTACK_HOST": HOST,
        "MINISTACK_REGION": "us-east-1",
        "LAMBDA_EXECUTOR": "local",
        "LOG_LEVEL": "INFO",
        "TMPDIR": str(workdir),
        "S3_DATA_DIR": str(workdir / "s3"),
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(venv / "bin" / "ministack")], env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not _healthy(endpoint):
            if process.poll() is not None:
                raise RuntimeError(f"MiniStack exited with {process.returncode}; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"MiniStack not healthy after {startup_timeout:.0f} s; see {log}")
            time.sleep(0.2)
        yield MiniStack(endpoint=endpoint, port=port, pid=process.pid, log=log)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stops MiniStack and the function subprocesses it started (its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    ensure_venv()
    sys.exit(0)
