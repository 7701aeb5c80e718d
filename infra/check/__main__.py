"""``python -m infra.check [--serverless PATH] [--zappa PATH] [--rule NAME ...]``; exit 1 on any problem."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.check import check, load_configs
from infra.check.config import SERVERLESS, ZAPPA, ConfigError
from infra.check.rules import RULES


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.check", description=__doc__)
    parser.add_argument("--serverless", type=Path, default=SERVERLESS)
    parser.add_argument("--zappa", type=Path, default=ZAPPA)
    parser.add_argument("--rule", action="append", choices=sorted(RULES), help="Only these rules (repeatable).")
    args = parser.parse_args()
    try:
        problems = check(load_configs(serverless=args.serverless, zappa=args.zappa), rules=args.rule)
    except ConfigError as error:
        print(f"config check: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    ran = ", ".join(args.rule or RULES)
    print(f"config check: {len(problems)} problem(s) ({ran})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
