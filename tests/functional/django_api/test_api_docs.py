"""Who may read the schema and Swagger UI: ``API_DOCS`` = public | staff | off (issue 17,
finding 2), and Swagger UI's own files are served from this origin."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from django_app.accounts.tokens import api_token_create
from django_app.config import env

pytestmark = pytest.mark.django_db

DOCS = ("/api/schema/", "/api/docs/", "/api/docs/?script")


def _statuses(client: Any) -> list[int]:
    return [client.get(path).status_code for path in DOCS]


def test_public_docs_are_served_to_anyone(client: Any, settings: Any) -> None:
    settings.API_DOCS = "public"
    assert _statuses(client) == [200, 200, 200]


def test_staff_docs_need_a_staff_session_or_token(client: Any, settings: Any, django_user_model: Any) -> None:
    settings.API_DOCS = "staff"
    assert _statuses(client) == [401, 401, 401]
    # The schema view answers in its own format (YAML), with the usual error body.
    assert b"code: not_authenticated" in client.get("/api/schema/").content
    someone = django_user_model.objects.create_user("someone", password="someone-password-1")
    client.force_login(someone)
    assert _statuses(client) == [403, 403, 403]
    staff = django_user_model.objects.create_user("operator", password="operator-password-1", is_staff=True)
    client.force_login(staff)
    assert _statuses(client) == [200, 200, 200]
    robot = APIClient()
    robot.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=staff, name='docs')[1]}")
    assert _statuses(robot) == [200, 200, 200]


def test_docs_off_are_not_found_even_for_staff(client: Any, settings: Any, django_user_model: Any) -> None:
    settings.API_DOCS = "off"
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "root-password-1"))
    assert _statuses(client) == [404, 404, 404]
    assert b"code: not_found" in client.get("/api/schema/").content


def test_swagger_ui_files_are_ours(client: Any) -> None:
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        response = client.get(f"/static/drf_spectacular_sidecar/swagger-ui-dist/{name}")
        assert response.status_code == 200, name


def test_the_setting_is_one_of_three(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_DOCS", "staff-only")
    with pytest.raises(env.ConfigError, match="API_DOCS must be one of public, staff, off"):
        env.choice_("API_DOCS", "public", choices=("public", "staff", "off"))
    monkeypatch.delenv("API_DOCS")
    assert env.choice_("API_DOCS", "staff", choices=("public", "staff", "off")) == "staff"


def test_lambda_defaults_to_staff_and_a_stage_may_choose() -> None:
    from tests.functional.django_api.test_deploy_settings import run_manage

    show = ["shell", "--no-imports", "-c", "from django.conf import settings; print(settings.API_DOCS)"]
    assert run_manage(*show, extra_env={}).stdout.strip() == "staff"
    assert run_manage(*show, extra_env={"API_DOCS": "off"}).stdout.strip() == "off"
    refused = run_manage(*show, extra_env={"API_DOCS": "yes"})
    assert refused.returncode != 0
    assert "API_DOCS must be one of public, staff, off, got 'yes'" in refused.stderr
