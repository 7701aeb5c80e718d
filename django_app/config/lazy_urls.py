"""URL includes that import their module on the first request routed to them.

Django imports every included URL module (and so every view, serializer and their dependencies)
at the first request, whatever it asks for. On Lambda that first request is part of the cold
start, so each area of the site is imported only when a request reaches it. ``include()`` cannot
do this (it reads the module's patterns at once), hence a resolver built directly.
"""

from __future__ import annotations

from functools import cached_property
from importlib import import_module
from typing import Any

from django.urls import URLResolver
from django.urls.resolvers import RoutePattern


class LazyUrlconf:
    def __init__(self, module: str) -> None:
        self.module = module

    @cached_property
    def urlpatterns(self) -> list[Any]:
        return list(import_module(self.module).urlpatterns)

    def __repr__(self) -> str:
        return f"<LazyUrlconf {self.module}>"


def lazy_path(route: str, module: str, *, namespace: str | None = None) -> URLResolver:
    """Like ``path(route, include(module))``, but imports ``module`` on first use."""
    urlconf: Any = LazyUrlconf(module)  # URLResolver reads `urlpatterns` off any object
    return URLResolver(RoutePattern(route, is_endpoint=False), urlconf, app_name=namespace, namespace=namespace)
