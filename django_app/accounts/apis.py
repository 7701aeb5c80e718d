"""Tickets and grants for the WebSocket, access tokens for other services, and RFC 7662 introspection."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from pydantic import ValidationError
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contracts.access_tokens import ACCESS_TOKEN_MAX_TTL_SECONDS, ACCESS_TOKEN_TYPE, AccessTokenClaims
from django_app.accounts.access_tokens import access_token_issue, access_token_scopes
from django_app.accounts.authentication import authenticated_user
from django_app.accounts.issuer import token_verifier
from django_app.accounts.models import ApiToken
from django_app.accounts.permissions import CanIntrospect, service_credential_of
from django_app.accounts.throttles import (
    GrantMintThrottle,
    IntrospectThrottle,
    TicketMintThrottle,
    TokenExchangeThrottle,
)
from django_app.accounts.tickets import grant_mint, ticket_mint
from django_app.accounts.tokens import TOKEN_PREFIX, api_token_find
from django_app.accounts.users import user_find_active
from django_app.config.errors import ApiError
from django_app.jobs.selectors import job_ids_owned
from polyglot_auth.verifier import TokenRejected


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
            409: OpenApiResponse(
                description="`user_id_unsupported`: the user model's key has characters a topic cannot carry."
            ),
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


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField also takes numbers and booleans, as their str()."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class TokenRequestSerializer(serializers.Serializer):
    audience = StrictCharField(max_length=64, help_text="The service the token is for (AUTH_SERVICES).")
    scope = StrictCharField(
        max_length=1000, required=False, help_text="Space-separated scopes; all you may have when left out."
    )


class TokenExchangeApi(APIView):
    """An access token for another service (RFC 9068 JWT, ES256, at most 5 minutes), for the caller.

    Browsers call it with their session (and the CSRF token), programs with their API token. The
    service verifies it offline with Django's JWKS.
    """

    throttle_classes = [TokenExchangeThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "AccessToken",
                {
                    "access_token": serializers.CharField(),
                    "token_type": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                    "scope": serializers.CharField(),
                    "audience": serializers.CharField(),
                    "issued_token_type": serializers.CharField(),
                },
            ),
            400: OpenApiResponse(description="`unknown_audience`, `invalid_scope` or `invalid_request`."),
            403: OpenApiResponse(description="`insufficient_scope`: a scope you may not have."),
        },
    )
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = authenticated_user(request)
        audience = body.validated_data["audience"]
        scopes = access_token_scopes(user=user, audience=audience, scope=body.validated_data.get("scope"))
        issued = access_token_issue(user=user, audience=audience, scopes=scopes, client_id=_client_id(request))
        return Response(
            {
                "access_token": issued.token,
                "token_type": "Bearer",
                "expires_in": issued.claims.exp - issued.claims.iat,
                "scope": issued.claims.scope,
                "audience": audience,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            },
            headers={"Cache-Control": "no-store"},  # RFC 6749 §5.1: tokens are never cached
        )


def _client_id(request: Request) -> str:
    """How the caller authenticated: the token's ``client_id``."""
    if isinstance(request.auth, ApiToken):
        return f"api-token:{request.auth.pk}"
    return "session"


class IntrospectApi(APIView):
    """RFC 7662: is this token active, and for whom. Inactive answers say nothing else.

    Only a service credential with the ``introspect`` permission may call it: never a browser
    session, not a superuser as such. It answers for a user's API token, and for an access token
    issued for the calling service. WebSocket tickets and grants are always inactive here: they are
    redeemed in one place only, ``$connect``.
    """

    permission_classes = [permissions.IsAuthenticated, CanIntrospect]
    throttle_classes = [IntrospectThrottle]

    @extend_schema(
        request=inline_serializer("IntrospectRequest", {"token": serializers.CharField()}),
        responses={
            200: inline_serializer("Introspection", {"active": serializers.BooleanField()}),
            403: OpenApiResponse(description="`service_credential_required`: call with a service credential."),
        },
    )
    def post(self, request: Request) -> Response:
        caller = service_credential_of(request)
        assert caller is not None  # CanIntrospect admitted only service credentials
        raw = request.data.get("token") if isinstance(request.data, dict) else None
        if not isinstance(raw, str) or not raw:
            return Response(
                {"error": {"code": "invalid_request", "message": "Send the token in the `token` field."}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(_introspect(raw, service=caller.service), headers={"Cache-Control": "no-store"})


def _introspect(raw: str, *, service: str) -> dict[str, Any]:
    token = api_token_find(raw_token=raw)
    if token is not None:
        if not (token.is_active and token.user.is_active) or token.service:
            return {"active": False}  # a service credential is not a user's token: nothing to say
        return {
            "active": True,
            "token_type": "api_token",
            "sub": str(token.user.pk),
            "username": token.user.get_username(),
            "iat": int(token.created_at.timestamp()),
        }
    if raw.startswith(TOKEN_PREFIX):
        return {"active": False}
    verifier = token_verifier(
        audience=service, token_type=ACCESS_TOKEN_TYPE, max_lifetime_seconds=ACCESS_TOKEN_MAX_TTL_SECONDS
    )
    try:
        claims = AccessTokenClaims.model_validate(verifier.verify(raw))
    except (TokenRejected, ValidationError):
        return {"active": False}
    user = user_find_active(user_id=claims.sub)
    if user is None:
        return {"active": False}
    return {
        "active": True,
        "token_type": "access_token",
        "iss": claims.iss,
        "sub": claims.sub,
        "aud": claims.aud,
        "iat": claims.iat,
        "exp": claims.exp,
        "jti": claims.jti,
        "client_id": claims.client_id,
        "scope": claims.scope,
        "username": user.get_username(),
    }
