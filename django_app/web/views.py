"""The browser page: submit a task, follow it live, list your jobs, manage webhook endpoints.

All data moves through the APIs: Django's, and the webhooks service's (called straight from the
browser, when ``WEBHOOKS_API_URL`` is set, with an access token from ``POST /api/auth/token/``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from django_app.jobs.registry import task_all

# The event types an endpoint may subscribe to, in the order the panel lists them, and whether the
# box starts ticked (the terminal events by default; the chattier ones are opt-in: docs/webhooks.md).
WEBHOOK_EVENT_TYPES: list[dict[str, object]] = [
    {"name": name, "id": "webhook-event-" + name.replace(".", "-"), "checked": checked}
    for name, checked in [
        ("job.succeeded", True),
        ("job.failed", True),
        ("job.cancelled", True),
        ("job.progress", False),
        ("job.queued", False),
        ("job.running", False),
    ]
]


@login_required
@ensure_csrf_cookie  # the page's fetch() calls send the cookie's token in X-CSRFToken
def home(request: HttpRequest) -> HttpResponse:
    tasks = task_all()
    tasks_json = [
        {"name": spec.name, "description": spec.description, "params_schema": spec.params.model_json_schema()}
        for spec in tasks
    ]
    context = {
        "tasks": tasks,
        "tasks_json": tasks_json,
        # Empty: this deployment has no webhooks service, and the page shows no Webhooks panel.
        "webhooks_api_url": settings.WEBHOOKS_API_URL,
        "webhook_event_types": WEBHOOK_EVENT_TYPES,
    }
    return render(request, "web/home.html", context)
