"""Ticket minting for the WebSocket and RFC 7662 introspection for other services."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_app.accounts.authentication import authenticated_user
from django_app.accounts.throttles import GrantMintThrottle, IntrospectThrottle, TicketMintThrottle
from django_app.accounts.tickets import grant_mint, ticket_decode, ticket_mint, ticket_redeem
from django_app.accounts.tokens import api_token_find
from django_app.config.errors import ApiError
from django_app.jobs.selectors import job_ids_owned


def _owned_job_ids(request: Request, serializer: type[serializers.Serializer], user_id: int) -> list[uuid.UUID]:
    """The ``jobs`` the body asks for, all owned by the caller; one foreign or unknown id → 404."""
    body = serializer(data=request.data)
    body.is_valid(raise_exception=True)
    asked = set(body.validated_data["jobs"])
    if job_ids_owned(owner_id=user_id, job_ids=asked) != asked:
        raise ApiError(status_code=404, code="not_found", message="Some of those jobs do not exist.")
    return sorted(asked, key=str)


class JobIdField(serializers.UUIDField):
    """A job id as the schema says: a UUID string. DRF's UUIDField also takes JSON numbers, and so
    ``true``/``false``, as ``UUID(int=…)``."""

    def to_internal_value(self, data: Any) -> uuid.UUID:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        value: uuid.UUID = super().to_internal_value(data)
        return value


_NOT_OWNED = OpenApiResponse(description="`not_found`: one of `jobs` is not a job of yours.")


class TicketRequestSerializer(serializers.Serializer):
    jobs = serializers.ListField(child=JobIdField(), required=False, max_length=50, default=list)


class TicketCreateApi(APIView):
    """Mint a single-use ticket for ``$connect``, granting ``user:<id>`` and the asked-for own jobs."""

    throttle_classes = [TicketMintThrottle]

    @extend_schema(
        request=TicketRequestSerializer,
        responses={
            201: inline_serializer(
                "Ticket",
                {
                    "ticket": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                    "topics": serializers.ListField(child=serializers.CharField()),
                    "websocket_url": serializers.CharField(),
                },
            ),
            404: _NOT_OWNED,
            429: OpenApiResponse(description="`rate_limited`: too many tickets; wait `Retry-After` seconds."),
        },
    )
    def post(self, request: Request) -> Response:
        user_id = authenticated_user(request).pk
        job_ids = _owned_job_ids(request, TicketRequestSerializer, user_id)
        ticket, claims = ticket_mint(user_id=user_id, job_ids=job_ids)
        return Response(
            {
                "ticket": ticket,
                "expires_in": claims.exp - claims.iat,
                "topics": claims.topics,
                "websocket_url": settings.WEBSOCKET_URL,
            },
            status=status.HTTP_201_CREATED,
        )


class GrantRequestSerializer(serializers.Serializer):
    jobs = serializers.ListField(child=JobIdField(), min_length=1, max_length=50)


class GrantCreateApi(APIView):
    """Mint a grant for ``job:<id>`` topics of own jobs, for a connection that is already open."""

    throttle_classes = [GrantMintThrottle]

    @extend_schema(
        request=GrantRequestSerializer,
        responses={
            201: inline_serializer(
                "Grant",
                {
                    "grant": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                    "topics": serializers.ListField(child=serializers.CharField()),
                },
            ),
            404: _NOT_OWNED,
            429: OpenApiResponse(description="`rate_limited`: too many grants; wait `Retry-After` seconds."),
        },
    )
    def post(self, request: Request) -> Response:
        user_id = authenticated_user(request).pk
        grant, claims = grant_mint(user_id=user_id, job_ids=_owned_job_ids(request, GrantRequestSerializer, user_id))
        return Response(
            {"grant": grant, "expires_in": claims.exp - claims.iat, "topics": claims.topics},
            status=status.HTTP_201_CREATED,
        )


class CanIntrospect(permissions.BasePermission):
    message = "Introspection needs a service credential."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("accounts.introspect_token"))


class IntrospectApi(APIView):
    """RFC 7662: is this token or ticket active, and for whom. Inactive answers say nothing else.

    Introspecting a ticket redeems it, like ``$connect`` does: a ticket is good for one use.
    """

    permission_classes = [permissions.IsAuthenticated, CanIntrospect]
    throttle_classes = [IntrospectThrottle]

    @extend_schema(
        request=inline_serializer("IntrospectRequest", {"token": serializers.CharField()}),
        responses={200: inline_serializer("Introspection", {"active": serializers.BooleanField()})},
    )
    def post(self, request: Request) -> Response:
        raw = request.data.get("token") if isinstance(request.data, dict) else None
        if not isinstance(raw, str) or not raw:
            return Response(
                {"error": {"code": "invalid_request", "message": "Send the token in the `token` field."}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(_introspect(raw))


def _introspect(raw: str) -> dict[str, Any]:
    token = api_token_find(raw_token=raw)
    if token is not None:
        if not (token.is_active and token.user.is_active):
            return {"active": False}
        return {
            "active": True,
            "token_type": "api_token",
            "sub": str(token.user.pk),
            "username": token.user.get_username(),
            "iat": int(token.created_at.timestamp()),
        }
    claims = ticket_decode(token=raw)
    if claims is None or not ticket_redeem(claims=claims):
        return {"active": False}
    return {
        "active": True,
        "token_type": "ws_ticket",
        "sub": claims.sub,
        "aud": claims.aud,
        "iat": claims.iat,
        "exp": claims.exp,
        "jti": claims.jti,
        "scope": " ".join(claims.topics),
    }
