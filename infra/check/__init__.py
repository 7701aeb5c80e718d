"""``python -m infra.check``: do serverless.yml and zappa_settings.json deploy together?

Stages, region and SSM parameter names agree between the two files; each Zappa stage attaches
its own least-privilege policy instead of Zappa's default one; every handler imports from
the package root it ships in; each SQS trigger's queue hides messages at least 6 x the function's
timeout, reports batch item failures and caps its concurrency within AWS's range; each DLQ keeps
messages longer than its source queue.
Nothing here calls AWS.
"""

from __future__ import annotations

from pathlib import Path

from infra.check.config import (
    SERVERLESS,
    ZAPPA,
    declared_stages,
    load_serverless,
    load_zappa,
    resolve_serverless,
)
from infra.check.rules import RULES, Configs, Problem

__all__ = ["Problem", "check", "load_configs"]


def load_configs(*, serverless: Path = SERVERLESS, zappa: Path = ZAPPA, **paths: Path) -> Configs:
    raw = load_serverless(serverless)
    stages = {stage: resolve_serverless(raw, stage=stage) for stage in sorted(declared_stages(raw))}
    paths.setdefault("zappa_dir", zappa.resolve().parent)
    return Configs(serverless_raw=raw, zappa=load_zappa(zappa), stages=stages, **paths)


def check(configs: Configs, *, rules: list[str] | None = None) -> list[Problem]:
    problems: list[Problem] = []
    for name in rules or list(RULES):
        problems += RULES[name](configs)
    return problems
