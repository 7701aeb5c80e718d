"""The browser page: submit a task, follow it live, list your jobs. All data moves through the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from django_app.jobs.registry import task_all


@login_required
@ensure_csrf_cookie  # the page's fetch() calls send the cookie's token in X-CSRFToken
def home(request: HttpRequest) -> HttpResponse:
    tasks = task_all()
    tasks_json = [
        {"name": spec.name, "description": spec.description, "params_schema": spec.params.model_json_schema()}
        for spec in tasks
    ]
    return render(request, "web/home.html", {"tasks": tasks, "tasks_json": tasks_json})
