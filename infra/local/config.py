"""What the local stack runs, read from serverless.yml and zappa_settings.json for one stage.

The YAML loader (CloudFormation short tags) and the ``${...}`` variable resolver are infra.check's,
so the local stack and the deploy check read the files the same way. Anything the local stack
cannot honour fails here, clearly, rather than being silently left out.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.check.config import (
    REPO,
    SERVERLESS,
    ZAPPA,
    ConfigError,
    load_serverless,
    load_zappa,
    resolve_serverless,
    zappa_stage,
)

STAGE = "local"
# A ${source:...} left after resolution is a variable source we do not know (${env:...}, ${ssm:...},
# ${file(...)}); CloudFormation's own ${AWS::Region} (two colons) and ${LogicalId} are left to Fn::Sub.
_UNRESOLVED = re.compile(r"\$\{(?!AWS::)([\w.()-]+:[^}]*|file\([^)]*\)[^}]*)\}")
# serverless.yml event types the local stack emulates; any other fails start-up.
SUPPORTED_EVENTS = ("sqs", "websocket", "schedule", "httpApi")


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str  # "package.module.function"
    code_root: Path  # Lambda's /var/task: the function's package root
    timeout: float
    memory: int
    environment: dict[str, Any]  # may hold CloudFormation intrinsics, resolved once resources exist
    django: bool  # runs Django (its settings module is the stage's Zappa django_settings)
    runtime: str = "python"  # the function's (or the provider's) runtime: python3.x, nodejs2x.x


@dataclass(frozen=True)
class SqsSource:
    function: str
    queue: Any  # an ARN, or an intrinsic naming a queue resource
    batch_size: int
    window_seconds: float
    report_failures: bool
    enabled: bool = True
    # ScalingConfig.MaximumConcurrency: at most this many invocations at once from this source;
    # None: Lambda's own scaling (the local stack's --pollers).
    max_concurrency: int | None = None

    def pollers(self, wanted: int) -> int:
        """How many pollers to run for this source: each has one batch in the function at a time, so
        no more than ``maximumConcurrency`` of them caps the source's concurrent invocations as AWS does."""
        return wanted if self.max_concurrency is None else min(wanted, self.max_concurrency)


@dataclass(frozen=True)
class HttpRoute:
    """One `httpApi` event: an HTTP API route (payload 2.0) to a function."""

    function: str
    method: str  # GET, POST, ... or * (any)
    path: str  # /webhooks/endpoints/{id}; "*" for $default

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route takes the request; None otherwise."""
        if self.method not in ("*", method):
            return None
        if self.path == "*":
            return {}
        wanted = self.path.strip("/").split("/")
        given = path.strip("/").split("/")
        if len(wanted) != len(given):
            return None
        parameters: dict[str, str] = {}
        for pattern, part in zip(wanted, given, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                if not part:
                    return None
                parameters[pattern[1:-1]] = part
            elif pattern != part:
                return None
        return parameters


@dataclass(frozen=True)
class Schedule:
    name: str
    function: str
    expression: str  # rate(...) or cron(...)
    input: Any = None  # the constant input; None: the EventBridge scheduled-event shape
    enabled: bool = True
    zappa_function: str = ""  # a Zappa event: the "module.function" the rule names


@dataclass(frozen=True)
class StackSpec:
    stage: str
    region: str
    service: str
    functions: dict[str, FunctionSpec]
    sqs_sources: list[SqsSource]
    ws_routes: dict[str, str]  # route key -> function
    ws_route_response: dict[str, str]  # route key -> routeResponseSelectionExpression
    route_selection_expression: str
    schedules: list[Schedule]
    http_routes: list[HttpRoute]
    http_api: dict[str, Any]  # provider.httpApi (cors)
    resources: dict[str, dict[str, Any]]
    provider_environment: dict[str, Any]
    zappa: dict[str, Any]
    django_function: str
    django_settings: str
    serverless_path: Path = field(default=SERVERLESS)


def _check_resolved(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _check_resolved(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_resolved(value, f"{where}[{index}]")
    elif isinstance(node, str):
        match = _UNRESOLVED.search(node)
        if match:
            raise ConfigError(f"serverless.yml: {where}: the local stack cannot resolve {match.group(0)}")


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_spec(
    *,
    serverless_path: Path = SERVERLESS,
    zappa_path: Path = ZAPPA,
    stage: str = STAGE,
    params: dict[str, Any] | None = None,
) -> StackSpec:
    """``params`` overrides serverless.yml's ``params`` for the stage (tests shorten timeouts)."""
    raw = load_serverless(serverless_path)
    if params:
        raw = _deep_merge(raw, {"params": {stage: params}})
    resolved = resolve_serverless(raw, stage=stage)
    _check_resolved(resolved.raw, "serverless.yml")
    zappa = zappa_stage(load_zappa(zappa_path), stage)
    provider = resolved.provider
    root = serverless_path.resolve().parent

    functions: dict[str, FunctionSpec] = {}
    sqs_sources: list[SqsSource] = []
    ws_routes: dict[str, str] = {}
    ws_route_response: dict[str, str] = {}
    schedules: list[Schedule] = []
    http_routes: list[HttpRoute] = []
    django_settings = str(zappa.get("django_settings") or "")
    for name, function in resolved.functions.items():
        path, _, attribute = str(function["handler"]).rpartition(".")
        environment = {**(function.get("environment") or {})}
        runtime = str(function.get("runtime") or provider.get("runtime") or "python")
        # Python's handler names a module (dots); Node's names a file path, which Lambda resolves.
        module = path if runtime.startswith("nodejs") else path.replace("/", ".")
        functions[name] = FunctionSpec(
            name=name,
            handler=f"{module}.{attribute}",
            code_root=(root / str(function.get("module", "."))).resolve(),
            timeout=float(function.get("timeout", provider.get("timeout", 6))),
            memory=int(function.get("memorySize", provider.get("memorySize", 1024))),
            environment=environment,
            django="DJANGO_SETTINGS_MODULE" in environment,
            runtime=runtime,
        )
        for index, event in enumerate(function.get("events") or []):
            kind = next(iter(event)) if isinstance(event, dict) and event else str(event)
            if kind not in SUPPORTED_EVENTS:
                raise ConfigError(f"serverless.yml: {name}: event type {kind!r} is not emulated locally")
            body = event[kind]
            if kind == "sqs":
                body = body if isinstance(body, dict) else {"arn": body}
                window = float(body.get("maximumBatchingWindow", 0))
                batch = int(body.get("batchSize", 10))
                # What Lambda refuses at deploy time, refused here too (AWS-FACTS.md).
                if not 1 <= batch <= 10_000 or not 0 <= window <= 300:
                    raise ConfigError(f"serverless.yml: {name}: batchSize 1-10,000 and maximumBatchingWindow 0-300 s")
                if batch > 10 and window < 1:
                    raise ConfigError(
                        f"serverless.yml: {name}: a batchSize over 10 needs a maximumBatchingWindow ≥ 1 s"
                    )
                max_concurrency = body.get("maximumConcurrency")
                if max_concurrency is not None and (
                    isinstance(max_concurrency, bool)
                    or not isinstance(max_concurrency, int)
                    or not 2 <= max_concurrency <= 1000
                ):
                    raise ConfigError(f"serverless.yml: {name}: maximumConcurrency must be an integer from 2 to 1,000")
                sqs_sources.append(
                    SqsSource(
                        function=name,
                        queue=body["arn"],
                        batch_size=batch,
                        window_seconds=window,
                        report_failures=body.get("functionResponseType") == "ReportBatchItemFailures",
                        enabled=bool(body.get("enabled", True)),
                        max_concurrency=max_concurrency,
                    )
                )
            elif kind == "httpApi":
                if not isinstance(body, dict):  # the short form: "GET /path", or "*"
                    body = {"method": str(body).split()[0], "path": str(body).split()[-1]}
                if body.get("authorizer"):
                    raise ConfigError(f"serverless.yml: {name}: httpApi authorizers are not emulated locally")
                method = str(body.get("method", "*")).upper()
                http_routes.append(HttpRoute(function=name, method=method, path=str(body.get("path", "*"))))
            elif kind == "websocket":
                body = body if isinstance(body, dict) else {"route": body}
                route = str(body["route"])
                if route in ws_routes:
                    raise ConfigError(f"serverless.yml: websocket route {route} is declared twice")
                ws_routes[route] = name
                if body.get("routeResponseSelectionExpression"):
                    ws_route_response[route] = str(body["routeResponseSelectionExpression"])
            else:
                body = body if isinstance(body, dict) else {"rate": body}
                rates = body["rate"] if isinstance(body["rate"], list) else [body["rate"]]
                if "inputPath" in body or "inputTransformer" in body:
                    raise ConfigError(f"serverless.yml: {name}: schedule inputPath/inputTransformer not emulated")
                for rate_index, rate in enumerate(rates):
                    base = str(body.get("name") or f"{resolved.raw.get('service')}-{stage}-{name}-schedule-{index}")
                    schedules.append(
                        Schedule(
                            name=base if len(rates) == 1 else f"{base}-{rate_index}",
                            function=name,
                            expression=str(rate),
                            input=body.get("input"),
                            enabled=bool(body.get("enabled", True)),
                        )
                    )

    project = str(zappa.get("project_name") or resolved.raw.get("service"))
    django_function = f"{project}-{stage}"
    functions[django_function] = FunctionSpec(
        name=django_function,
        handler="zappa.handler.lambda_handler",
        code_root=REPO,
        timeout=float(zappa.get("timeout_seconds", 30)),
        memory=int(zappa.get("memory_size", 512)),
        environment={**(zappa.get("environment_variables") or {})},
        django=True,
    )
    for event in zappa.get("events") or []:
        expression = event.get("expression")
        if not expression:
            raise ConfigError(f"zappa_settings.json: event {event} has no schedule expression (not emulated locally)")
        target = str(event["function"])
        schedules.append(
            Schedule(
                name=f"{django_function}-{event.get('name') or target}",
                function=django_function,
                expression=str(expression),
                input=None,
                enabled=bool(event.get("enabled", True)),
                zappa_function=target,
            )
        )

    return StackSpec(
        stage=stage,
        region=resolved.region,
        service=str(resolved.raw.get("service")),
        functions=functions,
        sqs_sources=sqs_sources,
        ws_routes=ws_routes,
        ws_route_response=ws_route_response,
        route_selection_expression=str(provider.get("websocketsApiRouteSelectionExpression", "$request.body.action")),
        schedules=schedules,
        http_routes=http_routes,
        http_api={**(provider.get("httpApi") or {})},
        resources=resolved.resources,
        provider_environment={**(provider.get("environment") or {})},
        zappa=zappa,
        django_function=django_function,
        django_settings=django_settings,
        serverless_path=serverless_path,
    )
