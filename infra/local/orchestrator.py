"""The whole local stack in one event loop: moto (its own process), the resources of serverless.yml,
one container pool per function, the HTTP and WebSocket gateways, the SQS pollers and the schedules.
Stopping reverses the order: no new requests, pollers drain, containers stop, moto last.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import uvicorn

from infra.check.config import SERVERLESS, ZAPPA
from infra.local.browser_guard import BrowserGuard, own_hosts, own_origins
from infra.local.config import STAGE, Schedule, StackSpec, load_spec
from infra.local.events import scheduled_event
from infra.local.functions import FunctionConfig, FunctionPool
from infra.local.http_api_gateway import Cors, HttpApiGateway
from infra.local.http_gateway import HttpGateway
from infra.local.imports import blocked_modules
from infra.local.logstream import LogStream
from infra.local.moto_server import FAKE_CREDENTIALS, MotoServer
from infra.local.pollers import Poller, PollerTarget
from infra.local.resources import Resources
from infra.local.scheduler import Timer, run_timer
from infra.local.ws_gateway import MAX_MESSAGE_BYTES, WsGateway
from infra.local.zappa_file import zappa_settings_dir
from infra.node_bundle import ensure_bundle
from polyglot_auth.jwk import jwks_document

# A function whose environment names its Django credential's SSM parameter gets the credential
# itself instead (moto never holds a secret): the service it acts as, and the permissions it has.
SERVICE_CREDENTIALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "WEBHOOKS_SECRET_PARAMETER": ("webhooks", ("jobs:read",))
}
SERVICE_TOKEN_VARIABLE = "DJANGO_SERVICE_TOKEN"  # noqa: S105 - a variable's name, not a secret

# Zappa's own keep-warm event: builds the Django app in a fresh container and returns.
_ZAPPA_WARM_EVENT = {
    "detail-type": "Scheduled Event",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/local-warm-handler.keep_warm_callback"],
}


@dataclass
class StackOptions:
    host: str = "127.0.0.1"
    http_port: int = 8000
    ws_port: int = 8001
    webhooks_port: int = 8002  # the HTTP API of serverless.yml's httpApi routes (the webhooks service)
    serverless_path: Path = SERVERLESS
    zappa_path: Path = ZAPPA
    stage: str = STAGE
    params: dict[str, Any] = field(default_factory=dict)  # overrides of serverless.yml's params
    schedule_seconds: dict[str, float] = field(default_factory=dict)  # schedule name -> period
    idle_timeout: float = 600.0  # API Gateway WebSocket: 10 minutes
    max_connection_seconds: float = 7200.0  # and 2 hours
    concurrency: int = 4  # containers per function
    pollers_per_queue: int = 2
    secrets: dict[str, str] = field(default_factory=dict)  # DJANGO_SECRET_KEY, AUTH_SIGNING_KEY
    database_url: str = ""
    environment: dict[str, str] = field(default_factory=dict)  # added to every function's, last (--env)
    throttle_share: float = 0.0  # share of management API posts answered 429 (fault injection)


@dataclass(frozen=True)
class StackUrls:
    http_url: str
    ws_url: str
    management_url: str
    aws_endpoint: str
    webhooks_url: str = ""  # the HTTP API's URL; empty when serverless.yml has no httpApi routes


class PortInUse(RuntimeError):
    pass


def _listen(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not the default 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # sockets whose proto says TCP, and accepted sockets inherit it. With it on, a response written
    # as headers then body waited for the client's delayed ACK: ~40 ms per request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise PortInUse(
            f"{host}:{port} is not free ({error.strerror}): another `make run`? "
            "Choose ports with LOCAL_HTTP_PORT / LOCAL_WS_PORT (0 for any free one)."
        ) from None
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the stack decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


class Stack:
    def __init__(self, options: StackOptions, *, log: LogStream | None = None, moto: MotoServer | None = None) -> None:
        self.options = options
        self.log = log or LogStream()
        self.spec: StackSpec = load_spec(
            serverless_path=options.serverless_path,
            zappa_path=options.zappa_path,
            stage=options.stage,
            params=options.params,
        )
        self.created = time.monotonic()
        self.moto = moto or MotoServer()
        self.pools: dict[str, FunctionPool] = {}
        self.pollers: list[Poller] = []
        self.timers: list[Timer] = []
        self.servers: list[_Server] = []
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []
        self.warming: list[asyncio.Task[Any]] = []
        self.executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="sqs-poller")
        self.resources: Resources | None = None
        self.service_tokens: dict[str, str] = {}  # service -> its Django credential (setup makes them)
        self.urls: StackUrls | None = None

    # --- start ----------------------------------------------------------------------------------

    def _services(self) -> dict[str, tuple[str, ...]]:
        """The services whose functions act on Django with a credential of their own."""
        wanted = {}
        for function in self.spec.functions.values():
            for variable, (service, permissions) in SERVICE_CREDENTIALS.items():
                if variable in function.environment:
                    wanted[service] = permissions
        return wanted

    async def start(self, *, setup: Callable[..., dict[str, str] | None] | None = None) -> StackUrls:
        """``setup(services=...)`` (migrations, the demo user, the services' Django credentials)
        runs meanwhile; requests are accepted once it and the Django function's first container
        are ready (until then they wait in the backlog)."""
        if self.moto.process is None:
            self.moto.launch()
        http_sock = _listen(self.options.host, self.options.http_port)
        ws_sock = _listen(self.options.host, self.options.ws_port)
        api_sock = _listen(self.options.host, self.options.webhooks_port) if self.spec.http_routes else None
        # Migrations and the demo user need only the database: they run while moto starts.
        services = self._services()
        preparing = asyncio.create_task(asyncio.to_thread(partial(setup, services=services))) if setup else None
        # The Node functions run the bundle `make package` ships, rebuilt if its sources changed.
        bundling = (
            asyncio.create_task(asyncio.to_thread(ensure_bundle))
            if any(function.runtime.startswith("nodejs") for function in self.spec.functions.values())
            else None
        )
        http_origin = f"http://{self.options.host}:{http_sock.getsockname()[1]}"
        ws_origin = f"http://{self.options.host}:{ws_sock.getsockname()[1]}"
        api_origin = f"http://{self.options.host}:{api_sock.getsockname()[1]}" if api_sock is not None else ""
        # With moto's port chosen up front, the Django function's first container (it needs no
        # resource, only the endpoint) boots while moto is still importing.
        endpoint = self.moto.endpoint or await asyncio.to_thread(self.moto.wait)
        resources = Resources(spec=self.spec, endpoint=endpoint, ws_origin=ws_origin, http_api_origin=api_origin)
        self.resources = resources
        django_name = self.spec.django_function
        django_config = await asyncio.to_thread(self._function_config, django_name, resources, endpoint)
        self.pools[django_name] = FunctionPool(django_config, self.log)
        booting = asyncio.create_task(self.pools[django_name].warm())
        self.warming.append(booting)
        await asyncio.to_thread(self.moto.wait)
        self.phase("moto ready")
        await asyncio.to_thread(self._create_resources, resources, http_origin)
        skipped = ", ".join(sorted(set(resources.skipped.values()))) or "none"
        self.phase(f"{len(resources.created)} resources created; not emulated: {skipped}")

        django_pool = self.pools[self.spec.django_function]
        http = HttpGateway(
            pool=django_pool,
            stage=self.spec.stage,
            api_id=resources.api_id,
            binary_support=bool(self.spec.zappa.get("binary_support", True)),
        )
        ws = WsGateway(
            pools=self.pools,
            routes=self.spec.ws_routes,
            route_response=self.spec.ws_route_response,
            selection_expression=self.spec.route_selection_expression,
            stage=self.spec.stage,
            api_id=resources.api_id,
            idle_timeout=self.options.idle_timeout,
            max_connection_seconds=self.options.max_connection_seconds,
            log=self.log,
            region=self.spec.region,
            throttle_share=self.options.throttle_share,
        )
        self.ws = ws
        await booting
        prepared, _ = await asyncio.gather(
            preparing if preparing is not None else asyncio.sleep(0),
            django_pool.invoke(_ZAPPA_WARM_EVENT, trigger="warm-up"),
        )
        self.service_tokens = dict(prepared or {})
        self.phase("Django function warm")
        if bundling is not None:
            await bundling
        # The other functions, once the services' credentials exist (setup made them).
        for name in self.spec.functions:
            if name != django_name:
                function_config = await asyncio.to_thread(self._function_config, name, resources, endpoint)
                self.pools[name] = FunctionPool(function_config, self.log)
        # No other site's page gets in: a foreign Origin or Host is a 403 (browser_guard.py). The
        # page may open WebSockets; nothing in a browser may call the management API.
        host = self.options.host
        http_port, ws_port = http_sock.getsockname()[1], ws_sock.getsockname()[1]
        page = own_origins(host, http_port)
        refused = partial(self.log.line, "guard")
        guarded_http = BrowserGuard(http, hosts=own_hosts(host, http_port), http_origins=page, on_refusal=refused)
        guarded_ws = BrowserGuard(ws, hosts=own_hosts(host, ws_port), websocket_origins=page, on_refusal=refused)
        listeners: list[tuple[Any, socket.socket]] = [(guarded_http, http_sock), (guarded_ws, ws_sock)]
        if api_sock is not None:
            http_api = HttpApiGateway(
                routes=self.spec.http_routes,
                pools=self.pools,
                # serverless.yml's page origin, and the page's actual one (the stack's ports may differ).
                cors=Cors.from_config(
                    self.spec.http_api.get("cors"),
                    methods={route.method for route in self.spec.http_routes},
                    extra_origins=page,
                ),
                api_id=resources.http_api_id,
                region=self.spec.region,
            )
            api_port = api_sock.getsockname()[1]
            # Browsers on the page's origin only (CORS says the same); other callers send no Origin.
            guarded_api = BrowserGuard(http_api, hosts=own_hosts(host, api_port), http_origins=page, on_refusal=refused)
            listeners.append((guarded_api, api_sock))
        for app, sock in listeners:
            config = uvicorn.Config(
                app,
                lifespan="off",
                log_level="warning",
                access_log=False,
                ws="websockets-sansio",
                ws_max_size=MAX_MESSAGE_BYTES,
                ws_ping_interval=None,  # API Gateway sends no pings; clients keep connections alive
                timeout_graceful_shutdown=3,
            )
            server = _Server(config)
            self.servers.append(server)
            self.tasks.append(asyncio.create_task(server.serve(sockets=[sock])))

        # The other functions' first containers, in the background.
        self.warming.append(asyncio.create_task(self._warm()))
        self.tasks += self.warming
        for source in self.spec.sqs_sources:
            if not source.enabled:
                continue
            target = PollerTarget(
                source=source,
                queue_url=resources.queue_url_for(source.queue),
                queue_arn=str(resources.value(source.queue)),
                pool=self.pools[source.function],
            )
            for _ in range(source.pollers(self.options.pollers_per_queue)):
                poller = Poller(
                    target, endpoint=endpoint, region=self.spec.region, executor=self.executor, log=self.log
                )
                self.pollers.append(poller)
                poller.task = asyncio.create_task(poller.run())
                self.tasks.append(poller.task)
        for schedule in self.spec.schedules:
            if schedule.enabled:
                timer = Timer(schedule, period_override=self.options.schedule_seconds.get(schedule.name))
                self.timers.append(timer)
                self.tasks.append(asyncio.create_task(run_timer(timer, self._fire, self.stopping)))
        for _ in range(500):  # bounded: uvicorn binds at once; 5 s at most
            if all(server.started for server in self.servers):
                break
            await asyncio.sleep(0.01)
        self.urls = StackUrls(
            http_url=http_origin,
            ws_url=f"ws://{ws_origin.split('://', 1)[1]}/{self.spec.stage}",
            management_url=f"{ws_origin}/{self.spec.stage}",
            aws_endpoint=endpoint,
            webhooks_url=api_origin,
        )
        return self.urls

    def _create_resources(self, resources: Resources, http_origin: str) -> None:
        resources.create_all()
        prefix = str(self.spec.zappa.get("environment_variables", {}).get("SSM_PARAMETER_PREFIX", ""))
        if prefix:
            # Public values only: the secrets reach the functions through their environment
            # (_secret_environment), so nothing that asks moto (which takes any credentials) can
            # read a key.
            resources.put_operator_parameters(prefix, {"api-base-url": ("String", http_origin)})

    def _secret_environment(self, name: str) -> dict[str, str]:
        """What a function holds of the stack's secrets: as little as it needs.

        The Django function signs tokens (AUTH_SIGNING_KEY); every function that runs Django reads
        the database and DJANGO_SECRET_KEY; the others get only Django's public keys (AUTH_JWKS).
        """
        secrets = self.options.secrets
        function = self.spec.functions[name]
        if function.runtime.startswith("nodejs"):
            # A Node service fetches Django's JWKS over HTTP; it holds only its own credential.
            environment = {}
            for variable, (service, _permissions) in SERVICE_CREDENTIALS.items():
                if variable in function.environment and service in self.service_tokens:
                    environment[SERVICE_TOKEN_VARIABLE] = self.service_tokens[service]
            return environment
        if not function.django:
            signing_key = secrets.get("AUTH_SIGNING_KEY")
            return {"AUTH_JWKS": json.dumps(jwks_document([signing_key]))} if signing_key else {}
        environment = {"DATABASE_URL": self.options.database_url} if self.options.database_url else {}
        environment.update({k: v for k, v in secrets.items() if k == "DJANGO_SECRET_KEY"})
        if name == self.spec.django_function and secrets.get("AUTH_SIGNING_KEY"):
            environment["AUTH_SIGNING_KEY"] = secrets["AUTH_SIGNING_KEY"]
        return environment

    def _function_config(self, name: str, resources: Resources, endpoint: str) -> FunctionConfig:
        function = self.spec.functions[name]
        environment = {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": self.spec.region,
            "AWS_DEFAULT_REGION": self.spec.region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }
        if name != self.spec.django_function:
            environment.update({k: str(v) for k, v in resources.value(self.spec.provider_environment).items()})
        environment.update({k: str(v) for k, v in resources.value(function.environment).items()})
        environment.update(self._secret_environment(name))
        environment.update(self.options.environment)
        extra_paths: tuple[str, ...] = ()
        blocked: tuple[str, ...] = ()
        if function.django:
            # The stage's Django settings (zappa_settings.json's django_settings) for every function
            # that runs Django: serverless.yml names the Lambda settings, which insist on HTTPS.
            environment["DJANGO_SETTINGS_MODULE"] = self.spec.django_settings
        if name == self.spec.django_function:
            extra_paths = (str(zappa_settings_dir(stage=self.spec.stage, zappa_path=self.options.zappa_path)),)
        elif not function.runtime.startswith("nodejs"):
            requirements = function.code_root / "requirements.txt"
            blocked = blocked_modules(requirements) if requirements.exists() else ()
        return FunctionConfig(
            name=name,
            handler=function.handler,
            code_root=function.code_root,
            timeout=function.timeout,
            memory=function.memory,
            environment=environment,
            extra_paths=extra_paths,
            blocked_modules=blocked,
            max_concurrency=self.options.concurrency,
            runtime=function.runtime,
        )

    def phase(self, what: str) -> None:
        self.log.line("stack", f"{what} ({time.monotonic() - self.created:.1f} s)")

    async def _warm(self) -> None:
        try:
            await asyncio.gather(
                *(pool.warm() for name, pool in self.pools.items() if name != self.spec.django_function)
            )
        except Exception as error:  # a function that cannot start is reported, the rest runs on
            self.log.line("stack", f"warm-up failed: {error}")

    async def _fire(self, schedule: Schedule) -> None:
        if schedule.input is not None:
            event: Any = schedule.input
        else:
            # Zappa's handler takes the function to run from the rule name's last "-" part.
            rule = f"{schedule.function}-{schedule.zappa_function}" if schedule.zappa_function else schedule.name
            event = scheduled_event(rule_name=rule, region=self.spec.region)
        await self.pools[schedule.function].invoke(
            event, trigger=f"schedule {schedule.name}", correlation_id=f"schedule:{schedule.name}"
        )

    def next_firings(self) -> list[tuple[Schedule, str]]:
        now = time.time()
        return [
            (timer.schedule, dt.datetime.fromtimestamp(timer.next_time(now)).strftime("%H:%M:%S"))
            for timer in self.timers
        ]

    # --- stop -----------------------------------------------------------------------------------

    async def stop(self) -> None:
        self.stopping.set()
        for server in self.servers:
            server.should_exit = True
        for poller in self.pollers:
            poller.stopping.set()
            if not poller.invoking and poller.task is not None:
                poller.task.cancel()  # waiting in a long poll: nothing to finish
        if hasattr(self, "ws"):
            await self.ws.close_all()
        # Warming containers has nothing to finish; in-flight invocations do, within 5 s.
        for task in self.warming:
            task.cancel()
        pending = [task for task in self.tasks if not task.done()]
        _done, still = await asyncio.wait(pending, timeout=5) if pending else (set(), set())
        await asyncio.gather(*(pool.close() for pool in self.pools.values()), return_exceptions=True)
        await asyncio.to_thread(self.moto.stop)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=5)
        self.executor.shutdown(wait=False, cancel_futures=True)
