"""``make run`` from a fresh clone, with nothing but the README: the committed tree, cloned, runs
``python -m infra.local`` (what ``make run`` runs once installed) on free ports; the printed URL
answers /api/health/; Ctrl-C (SIGINT to the process group, as a terminal sends it) stops the whole
tree and the command exits 0."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from infra.check.config import REPO

pytestmark = pytest.mark.slow
START_SECONDS = 120.0


def _clone(target: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)], check=True, timeout=120)
    # "After installation": the venv and node_modules `make` would build from requirements/ and
    # package-lock.json, shared rather than rebuilt (the stack builds the webhooks bundle with them).
    (target / ".venv").symlink_to(REPO / ".venv")
    (target / "node_modules").symlink_to(REPO / "node_modules")
    return target


def _port_open(url: str) -> bool:
    host, port = url.split("://", 1)[1].split("/", 1)[0].split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


def test_make_run_from_a_fresh_clone(tmp_path: Path) -> None:
    clone = _clone(tmp_path / "clone")
    assert "make run" in (clone / "README.md").read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_", "SSM_", "DATABASE_"))}
    env.update({"LOCAL_HTTP_PORT": "0", "LOCAL_WS_PORT": "0"})
    output = tmp_path / "run.log"
    with open(output, "wb") as sink:
        process = subprocess.Popen(
            [str(clone / ".venv" / "bin" / "python"), "-m", "infra.local"],
            cwd=clone, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        url = None
        deadline = time.monotonic() + START_SECONDS
        while url is None and time.monotonic() < deadline and process.poll() is None:
            match = re.search(r"Stack URL:\s+(http://\S+?)/?\s", output.read_text())
            url = match.group(1) if match else None
            time.sleep(0.1)
        assert url, output.read_text()
        with urllib.request.urlopen(f"{url}/api/health/", timeout=60) as response:
            assert response.status == 200
            assert json.loads(response.read()) == {"status": "ok"}
        moto = re.search(r"AWS \(moto\):\s+(\S+)", output.read_text())
        assert moto
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the group of the process we started
        code = process.wait(timeout=60)
    log = output.read_text()
    assert code == 0, log
    assert "stopped" in log
    assert "Traceback" not in log
    # The whole tree stopped: moto's port no longer answers.
    assert not _port_open(moto.group(1))
    assert (clone / ".local" / "db.sqlite3").exists()
    # Its own SQLite database: the demo user is made there (issue 17, finding 7).
    assert "Demo login:  demo / demo-password" in log
    # Sessions, password hashes and secrets are for the owner only (issue 17, finding 5).
    state = clone / ".local"
    modes = {str(p.relative_to(state)): stat.S_IMODE(p.lstat().st_mode) for p in [state, *state.rglob("*")]}
    assert {"db.sqlite3", "secrets.json"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        completed = subprocess.run(
            [str(REPO / ".venv" / "bin" / "python"), "-m", "infra.local", "--http-port", str(port), "--ws-port", "0",
             "--state-dir", str(tmp_path)],
            cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert completed.returncode == 1
    assert f"127.0.0.1:{port} is not free" in completed.stderr
    assert "LOCAL_HTTP_PORT" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
