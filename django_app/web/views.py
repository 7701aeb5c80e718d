"""The browser page. The live job page (WebSocket client) arrives with the local-stack work."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from django_app.accounts.authentication import authenticated_user
from django_app.jobs.registry import task_all
from django_app.jobs.selectors import job_list


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/home.html",
        {"jobs": job_list(owner_id=authenticated_user(request).pk)[:20], "tasks": task_all()},
    )
