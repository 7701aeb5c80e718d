"""API tokens in the admin: created with a name, the plain token shown once, revoked by action.

Service credentials show their service and permissions, read-only: they are made with
``manage.py create_service_credential``, which checks the permissions against AUTH_SERVICES.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest

from django_app.accounts.models import ApiToken
from django_app.accounts.tokens import api_token_fill, api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "service", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at", "service"]
    search_fields = ["name", "prefix", "service"]
    readonly_fields = ["prefix", "service", "permissions", "created_at", "last_used_at", "revoked_at"]
    fields = ["user", "name", "prefix", "service", "permissions", "created_at", "last_used_at", "revoked_at"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The user model's own login field (AUTH_USER_MODEL may log in by e-mail, with no username).
        return [*self.search_fields, f"user__{get_user_model().USERNAME_FIELD}"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        raw_token = api_token_fill(token=obj)
        super().save_model(request, obj, form, change)
        messages.warning(request, f"Copy this token now; it is not shown again: {raw_token}")

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        # A token's user or secret never changes; revoke and create another instead.
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
