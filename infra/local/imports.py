"""What each function may import, as its deployed package would allow: the installed distributions
that Django's requirements bring and the function's own requirements do not are refused in that
function's containers (the websocket and push functions cannot see Django).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata
from pathlib import Path

from infra.check.config import REPO

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
DJANGO_REQUIREMENTS = REPO / "requirements" / "django.txt"
# Lambda's Python runtime ships boto3 (and what it needs) to every function.
RUNTIME_PROVIDED = ("boto3",)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> set[str]:
    names: set[str] = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            names |= requirement_names((path.parent / line[2:].strip()).resolve())
        elif (match := _NAME.match(line)) and not line.startswith("-"):
            names.add(_normal(match.group(1)))
    return names


def closure(names: set[str]) -> set[str]:
    """The distributions ``names`` need, transitively (extras' dependencies excluded)."""
    seen: set[str] = set()
    pending = list(names)
    for _ in range(10_000):  # bounded: one distribution per round
        if not pending:
            break
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" in requirement.replace('"', "").replace("'", ""):
                continue
            match = _NAME.match(requirement)
            if match:
                pending.append(_normal(match.group(1)))
    return seen


@cache
def _modules_by_distribution() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            found.setdefault(_normal(distribution), set()).add(module)
    return found


def blocked_modules(requirements: Path) -> tuple[str, ...]:
    """Top-level modules of Django's dependencies that ``requirements`` does not bring, plus this
    repository's Django project (a symlink away in .lambda/, so it must be refused by name)."""
    own = closure(requirement_names(requirements) | set(RUNTIME_PROVIDED))
    if "django" in own:
        return ()
    foreign = closure(requirement_names(DJANGO_REQUIREMENTS)) - own
    modules = _modules_by_distribution()
    names = {module for distribution in foreign for module in modules.get(distribution, set())}
    return tuple(sorted(names | {"django_app"}))
