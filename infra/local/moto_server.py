"""moto in server mode, in its own process (its request handling must not share the gateways' GIL).

The child prints its port, then serves until its stdin closes: it cannot outlive the stack.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

_CHILD = """
import logging, sys
sys.path.insert(0, sys.argv[3])  # the repository, for infra.local.moto_speedups
from infra.local import moto_speedups
moto_speedups.share_botocore_data()
from moto.server import ThreadedMotoServer
moto_speedups.install()
from infra.local import moto_guard
moto_guard.install()  # no page's requests: an Origin or a foreign Host is refused
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log: the stack logs invocations
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
# moto imports a service's backend on its first request: import them now, not during a function's
# cold start. SSM's takes seconds (it pulls in EC2's models), so it comes after the port is
# printed: the stack creates queues, topics and tables meanwhile, and a first SSM request simply
# waits for the import to finish.
from moto.backends import get_backend
first, later = [s for s in sys.argv[4:] if s != "ssm"], [s for s in sys.argv[4:] if s == "ssm"]
for service in first:
    get_backend(service)["123456789012"][sys.argv[2]]  # moto's default account, the stack's region
print(server.get_host_and_port()[1], flush=True)
for service in later:
    get_backend(service)["123456789012"][sys.argv[2]]
sys.stdin.read()
server.stop()
"""

REPO = Path(__file__).resolve().parents[2]

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


class MotoServer:
    def __init__(
        self, *, port: int = 0, region: str = "us-east-1", services: tuple[str, ...] = ("sqs", "sns", "dynamodb", "ssm")
    ) -> None:
        self.port = port
        self.region = region
        self.services = services
        self._ready = False
        self.process: subprocess.Popen[str] | None = None
        # Known before moto answers when the port is chosen up front.
        self.endpoint = f"http://127.0.0.1:{port}" if port else ""

    def launch(self) -> None:
        """Starts the process; ``wait`` reads its port (other start-up work can run in between)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update(FAKE_CREDENTIALS)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(self.port), self.region, str(REPO), *self.services],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            # Its own session: Ctrl-C reaches the stack, which stops moto last (functions may
            # still be calling it while they finish).
            start_new_session=True,
        )

    def wait(self) -> str:
        assert self.process is not None
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # the child prints its port or dies (EOF)
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("moto server did not start")
        self.endpoint = f"http://127.0.0.1:{int(line)}"
        self._ready = True
        return self.endpoint

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        # Its state dies with it anyway: no graceful shutdown (werkzeug's is slow).
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdin:
            process.stdin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
