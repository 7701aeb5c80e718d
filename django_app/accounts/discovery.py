"""Discovery for verifiers: Django's public keys (RFC 7517) and its metadata (RFC 8414).

Plain Django views, not DRF: public, no session, no CSRF, and nothing to import on a cold start
beyond the keys themselves. Both answers are cacheable: a verifier caches the JWKS and fetches it
again when a token names a key it has not seen (docs/protocol.md §5).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from django_app.accounts.issuer import configured_keys, issuer
from django_app.accounts.registry import services
from django_app.config.errors import ApiError, error_body

# A key is published at least this long before it signs (docs/operations.md), so no verifier that
# honours the header can miss it.
JWKS_MAX_AGE_SECONDS = 300


def _public(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    response["Access-Control-Allow-Origin"] = "*"  # public keys: any page's JavaScript may read them
    return response


def _answers_errors(view: Callable[[HttpRequest], JsonResponse]) -> Callable[[HttpRequest], JsonResponse]:
    """These are plain Django views: an ``ApiError`` (issuer or keys not configured) becomes its
    status and the API's error body here, as DRF's handler does for the API's views."""

    @functools.wraps(view)
    def answered(request: HttpRequest) -> JsonResponse:
        try:
            return view(request)
        except ApiError as error:
            return JsonResponse(error_body(error.error_code, str(error.detail)), status=error.status_code)

    return answered


@require_GET
@_answers_errors
def jwks(request: HttpRequest) -> JsonResponse:
    return _public(JsonResponse(configured_keys().jwks()))


@require_GET
@_answers_errors
def authorization_server_metadata(request: HttpRequest) -> JsonResponse:
    base = issuer()
    return _public(
        JsonResponse(
            {
                "issuer": base,
                "jwks_uri": base + reverse("jwks"),
                "token_endpoint": base + reverse("auth-token"),
                "introspection_endpoint": base + reverse("introspect"),
                # No authorization endpoint: tokens come from the token endpoint to signed-in callers.
                "response_types_supported": [],
                "scopes_supported": sorted({scope for service in services().values() for scope in service.scopes}),
                "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
                "introspection_endpoint_auth_methods_supported": ["bearer"],
            }
        )
    )
