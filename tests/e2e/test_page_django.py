"""The page against Django alone (no worker): login, the generated form, validation, submit."""

from __future__ import annotations

from typing import Any

import pytest

from django_app.jobs.models import Job
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-password-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_login_then_the_form_follows_the_task_schema(page: Any, live_server: Any, user: Any) -> None:
    log_in(page, live_server)
    page.get_by_label("Task", exact=True).select_option("countdown")
    seconds = page.get_by_label("Seconds", exact=True)
    assert seconds.get_attribute("max") == "60"
    page.get_by_label("Task", exact=True).select_option("word_count")
    assert page.locator("textarea#param-text").count() == 1


def test_field_errors_from_the_api_show_next_to_the_field(page: Any, live_server: Any, user: Any) -> None:
    log_in(page, live_server)
    page.get_by_label("Task", exact=True).select_option("countdown")
    page.get_by_label("Seconds", exact=True).fill("999")
    page.get_by_role("button", name="Submit").click()
    page.locator("#param-seconds-error").filter(has_text="less than or equal").wait_for(timeout=10_000)
    assert Job.objects.count() == 0


def test_submit_shows_the_job_and_lists_it(page: Any, live_server: Any, user: Any, jobs_queue: str) -> None:
    log_in(page, live_server)
    page.get_by_label("Task", exact=True).select_option("countdown")
    page.get_by_label("Seconds", exact=True).fill("2")
    page.get_by_role("button", name="Submit").click()
    page.locator("#current-status").filter(has_text="queued").wait_for(timeout=10_000)
    job = Job.objects.get()
    assert page.locator(f"#job-{job.id} .status").inner_text() == "queued"
    screenshot(page, "page-django-only")


def test_page_and_admin_run_under_the_content_security_policy(
    page: Any, live_server: Any, django_user_model: Any
) -> None:
    django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("root-password-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    for path in ["/admin/jobs/job/", "/admin/accounts/apitoken/add/", "/"]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert page.locator("#submit-form").is_visible()
    assert violations == []
