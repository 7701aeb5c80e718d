"""``make run``: set up the local database and demo user, then run the whole stack on 127.0.0.1 from
serverless.yml and zappa_settings.json until Ctrl-C (docs/local-stack.md).

``python -m infra.local --help`` lists the knobs (ports, another serverless.yml, shortened
schedules); tests and benchmarks use them through ``infra.local.stack.LocalStack``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import sys
from pathlib import Path

from infra.check.config import REPO, SERVERLESS, ZAPPA

DEFAULT_STATE = REPO / ".local"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("LOCAL_HOST", "127.0.0.1"))
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("LOCAL_HTTP_PORT", "8000")))
    parser.add_argument("--ws-port", type=int, default=int(os.environ.get("LOCAL_WS_PORT", "8001")))
    parser.add_argument(
        "--webhooks-port",
        type=int,
        default=int(os.environ.get("LOCAL_WEBHOOKS_PORT", "8002")),
        help="the HTTP API (serverless.yml's httpApi routes: the webhooks service)",
    )
    parser.add_argument("--serverless", type=Path, default=SERVERLESS, help="serverless.yml to run")
    parser.add_argument("--zappa", type=Path, default=ZAPPA, help="zappa_settings.json to run")
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE, help="where the SQLite database lives")
    parser.add_argument("--params", default="{}", help="JSON overriding serverless.yml's params for the stage")
    parser.add_argument("--schedule-seconds", default="{}", help='JSON {"<schedule name>": seconds}: shorter rates')
    parser.add_argument("--idle-timeout", type=float, default=600.0, help="WebSocket idle timeout (s)")
    parser.add_argument("--max-connection-seconds", type=float, default=7200.0, help="WebSocket maximum lifetime (s)")
    parser.add_argument("--concurrency", type=int, default=4, help="containers per function at most")
    parser.add_argument("--pollers", type=int, default=2, help="concurrent batches per SQS event source")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable for every function, after the configs' (repeatable)",
    )
    parser.add_argument(
        "--throttle-share",
        type=float,
        default=0.0,
        help="fault injection: share (0-1) of management API posts answered 429 LimitExceededException",
    )
    parser.add_argument("--ready-file", type=Path, help="write the URLs here as JSON once the stack answers")
    parser.add_argument(
        "--demo-user-anywhere",
        action="store_true",
        help="make or reset the demo superuser even in a DATABASE_URL that is not the stack's own SQLite "
        "(a throwaway test database: LocalStack passes it)",
    )
    return parser


def _environment(pairs: list[str]) -> dict[str, str]:
    environment = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env wants KEY=VALUE, got {pair!r}")
        environment[key] = value
    return environment


def main() -> int:
    args = _parser().parse_args()
    if not 0.0 <= args.throttle_share <= 1.0:
        raise SystemExit("--throttle-share is a share between 0 and 1")
    environment = _environment(args.env)
    # Before anything (moto, the functions, SQLite) writes: .local/ is for its owner only.
    from infra.local.private_state import private_state_dir

    private_state_dir(args.state_dir)
    from infra.local.moto_server import MotoServer, free_port

    moto = MotoServer(port=free_port())
    moto.launch()  # the slowest part (moto imports for seconds) starts first, in its own process
    from infra.local.logstream import LogStream
    from infra.local.orchestrator import PortInUse, Stack, StackOptions
    from infra.local.setup import DEMO_PASSWORD, DEMO_USERNAME, is_local_sqlite, local_secrets, prepare_django

    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{args.state_dir.resolve() / 'db.sqlite3'}"
    # A known superuser password is fine in the stack's own SQLite file, never in someone's database.
    demo_user = is_local_sqlite(database_url, args.state_dir) or args.demo_user_anywhere
    log = LogStream()
    secrets = local_secrets()
    stack = Stack(
        StackOptions(
            host=args.host,
            http_port=args.http_port,
            ws_port=args.ws_port,
            webhooks_port=args.webhooks_port,
            serverless_path=args.serverless.resolve(),
            zappa_path=args.zappa.resolve(),
            params=json.loads(args.params),
            schedule_seconds={str(k): float(v) for k, v in json.loads(args.schedule_seconds).items()},
            idle_timeout=args.idle_timeout,
            max_connection_seconds=args.max_connection_seconds,
            concurrency=args.concurrency,
            pollers_per_queue=args.pollers,
            secrets=secrets,
            database_url=database_url,
            environment=environment,
            throttle_share=args.throttle_share,
        ),
        log=log,
        moto=moto,
    )
    os.environ["DATABASE_URL"] = database_url
    # Setup (migrations, the demo user) runs Django here with the Django function's settings, which
    # may insist on the secret key as a stage's do; the function's own key, then.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets["DJANGO_SECRET_KEY"])
    os.environ["DJANGO_SETTINGS_MODULE"] = stack.spec.django_settings  # the functions' settings

    async def serve() -> int:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopped.set)
        try:
            urls = await stack.start(setup=functools.partial(prepare_django, demo_user=demo_user))
        except BaseException:
            await stack.stop()
            raise
        print(f"\n  Stack URL:   {urls.http_url}/", flush=True)
        demo = f"{DEMO_USERNAME} / {DEMO_PASSWORD}" if demo_user else "none (DATABASE_URL is not the local SQLite)"
        print(f"  Demo login:  {demo}", flush=True)
        print(f"  WebSocket:   {urls.ws_url}", flush=True)
        if urls.webhooks_url:
            print(f"  Webhooks:    {urls.webhooks_url}/webhooks/endpoints", flush=True)
        print(f"  Management:  {urls.management_url}/@connections/{{id}}", flush=True)
        print(f"  AWS (moto):  {urls.aws_endpoint}", flush=True)
        for schedule, when in stack.next_firings():
            print(
                f"  Schedule:    {schedule.name} {schedule.expression} -> {schedule.function}, next {when}", flush=True
            )
        print("  Ctrl-C stops everything.\n", flush=True)
        if args.ready_file:
            partial = args.ready_file.with_suffix(".tmp")
            partial.write_text(json.dumps({**urls.__dict__, "database_url": database_url, "pid": os.getpid()}))
            partial.rename(args.ready_file)
        await stopped.wait()
        log.line("stack", "stopping")
        await stack.stop()
        log.line("stack", "stopped")
        return 0

    try:
        return asyncio.run(serve())
    except PortInUse as error:
        print(f"make run: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
