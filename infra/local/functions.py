"""Functions run as on Lambda: each invocation goes to a container (a process running
``runtime.py`` with the function's environment and package root) that handles one event at a time;
containers are started on demand up to a concurrency limit and reused while warm. An invocation
that outlives the function's timeout kills its container, as Lambda does.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.logstream import LogStream

RUNTIME = Path(__file__).with_name("runtime.py")
NODE_RUNTIME = Path(__file__).with_name("runtime.mjs")  # the same protocol, for nodejs* functions
# Containers get only these from the stack's own environment (Lambda's are as bare).
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR")
_PIPE_LIMIT = 64 * 1024 * 1024  # an answer is one JSON line; Lambda's response limit is 6 MB
_INIT_TIMEOUT = 120.0  # Lambda caps init at 10 s; the first local start also compiles bytecode


class InvocationError(Exception):
    pass


@dataclass(frozen=True)
class Invocation:
    ok: bool
    result: Any
    error: dict[str, Any] | None
    duration_ms: float
    request_id: str


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    handler: str
    code_root: Path
    timeout: float
    memory: int
    environment: dict[str, str]
    extra_paths: tuple[str, ...] = ()
    blocked_modules: tuple[str, ...] = ()
    max_concurrency: int = 4
    runtime: str = "python"  # serverless.yml's runtime: python3.x or nodejs2x.x

    def command(self, node: str = "node") -> list[str]:
        """The container's process: runtime.py on this interpreter, or runtime.mjs on ``node``."""
        common = [self.handler, self.name, str(self.timeout), str(self.memory)]
        if self.runtime.startswith("nodejs"):
            return [node, str(NODE_RUNTIME), str(self.code_root), *common]
        command = [sys.executable, "-I", str(RUNTIME), str(self.code_root), *common, *self.extra_paths]
        if self.blocked_modules:
            command += ["--block", *self.blocked_modules]
        return command


class Container:
    def __init__(self, config: FunctionConfig, log: LogStream) -> None:
        self.config = config
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.correlation_id = ""
        self._relay: asyncio.Task[None] | None = None

    async def start(self) -> float:
        """Starts the process and waits for its init phase; returns the init duration (ms)."""
        started = time.perf_counter()
        environment = {key: os.environ[key] for key in _PASSED_THROUGH if key in os.environ}
        environment.update(self.config.environment)
        self.process = await asyncio.create_subprocess_exec(
            *self.config.command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            cwd=str(self.config.code_root),
            limit=_PIPE_LIMIT,
            # Its own session: Ctrl-C reaches the stack, which stops containers in order.
            start_new_session=True,
        )
        self._relay = asyncio.create_task(self._relay_logs())
        ready = await self._answer(_INIT_TIMEOUT)
        if not ready.get("ok"):
            await self.kill()
            raise InvocationError(f"{self.config.name}: init failed: {ready.get('init_error')}")
        return (time.perf_counter() - started) * 1000

    async def _relay_logs(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        while True:
            line = await self.process.stderr.readline()
            if not line:
                return
            self.log.line(self.config.name, line.decode(errors="replace"), correlation_id=self.correlation_id)

    async def _answer(self, timeout: float) -> dict[str, Any]:
        assert self.process is not None
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise InvocationError(f"{self.config.name}: the container exited (code {await self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def invoke(self, event: Any, request_id: str) -> dict[str, Any]:
        assert self.process is not None
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"event": event, "request_id": request_id}).encode() + b"\n")
        await self.process.stdin.drain()
        return await self._answer(self.config.timeout)

    async def kill(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> None:
        """Closes stdin (the runtime's loop ends), then kills what does not exit promptly."""
        if self.process is None or self.process.returncode is not None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 3)
        except TimeoutError:
            await self.kill()
        if self._relay is not None:
            await asyncio.wait([self._relay], timeout=1)


class FunctionPool:
    """Lambda's scaling for one function: idle containers are reused, new ones start up to the limit."""

    def __init__(self, config: FunctionConfig, log: LogStream) -> None:
        self.config = config
        self.log = log
        self.idle: list[Container] = []
        self.running = 0
        self.containers: list[Container] = []
        self._free = asyncio.Condition()
        self.invocations = 0

    async def _acquire(self) -> tuple[Container, float | None]:
        async with self._free:
            await self._free.wait_for(lambda: bool(self.idle) or len(self.containers) < self.config.max_concurrency)
            if self.idle:
                return self.idle.pop(), None
            container = Container(self.config, self.log)
            self.containers.append(container)
        try:
            cold_ms = await container.start()
        except BaseException:
            await self._discard(container)
            raise
        return container, cold_ms

    async def _discard(self, container: Container) -> None:
        await container.kill()
        async with self._free:
            self.containers.remove(container)
            self._free.notify()

    async def _release(self, container: Container) -> None:
        async with self._free:
            self.idle.append(container)
            self._free.notify()

    async def warm(self) -> None:
        container, _ = await self._acquire()
        await self._release(container)

    async def invoke(self, event: Any, *, trigger: str, correlation_id: str = "") -> Invocation:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        container, cold_ms = await self._acquire()
        container.correlation_id = correlation_id
        self.invocations += 1
        try:
            answer = await container.invoke(event, request_id)
        except (TimeoutError, InvocationError, ConnectionError, json.JSONDecodeError) as error:
            # Lambda's answer to a timeout or a crash: the container is gone, the invocation failed.
            await self._discard(container)
            duration = (time.perf_counter() - started) * 1000
            kind = "Task timed out" if isinstance(error, TimeoutError) else f"Runtime exited: {error}"
            self.log.invocation(
                self.config.name,
                trigger=trigger,
                duration_ms=duration,
                outcome="ERROR " + kind,
                correlation_id=correlation_id,
                cold_ms=cold_ms,
            )
            return Invocation(False, None, {"errorType": "Runtime", "errorMessage": kind}, duration, request_id)
        except BaseException:
            await self._discard(container)
            raise
        await self._release(container)
        duration = (time.perf_counter() - started) * 1000
        outcome = "ok" if answer.get("ok") else f"ERROR {answer.get('error')}"
        self.log.invocation(
            self.config.name,
            trigger=trigger,
            duration_ms=duration,
            outcome=outcome,
            correlation_id=correlation_id,
            cold_ms=cold_ms,
        )
        return Invocation(bool(answer.get("ok")), answer.get("result"), answer.get("error"), duration, request_id)

    async def close(self) -> None:
        await asyncio.gather(*(container.stop() for container in list(self.containers)), return_exceptions=True)
        self.containers.clear()
        self.idle.clear()
