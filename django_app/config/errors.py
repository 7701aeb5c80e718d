"""One error shape for every 4xx and 5xx the API returns.

``{"error": {"code": "<stable machine code>", "message": "<for people>", "fields": {...}}}``
Codes never change meaning; messages may. No traceback ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """A domain failure with its own status and code, raised by views."""

    def __init__(self, *, status_code: int, code: str, message: str) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


_CODE_BY_EXCEPTION: list[tuple[type[Exception], str]] = [
    (exceptions.ParseError, "malformed_json"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),  # 429, with Retry-After (DRF sets it from the wait)
    (exceptions.ValidationError, "invalid_request"),
]


def _fields(detail: Any) -> dict[str, Any]:
    """DRF's nested ErrorDetail lists as plain strings, keyed by field."""
    if isinstance(detail, dict):
        return {key: _fields(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [str(item) if not isinstance(item, (dict, list)) else _fields(item) for item in detail]  # type: ignore[return-value]
    return str(detail)  # type: ignore[return-value]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("payload_too_large", "The request body is larger than this API accepts."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django logs it and answers through handler500
    if isinstance(exc, ApiError):
        response.data = error_body(exc.error_code, str(exc.detail))
        return response
    if isinstance(exc, exceptions.PermissionDenied) and isinstance(exc.get_codes(), str):
        response.data = error_body(str(exc.get_codes()), str(exc.detail))  # "permission_denied" or a view's own
        return response
    if isinstance(exc, exceptions.AuthenticationFailed):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "invalid_token"
        response.data = error_body(str(code), str(exc.detail))
        return response
    code = next((c for cls, c in _CODE_BY_EXCEPTION if isinstance(exc, cls)), "bad_request")
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict) and "code" in detail and "message" in detail:
            fields = detail.get("fields")
            response.data = error_body(
                str(detail["code"]), str(detail["message"]), fields if isinstance(fields, dict) else None
            )
        else:
            response.data = error_body(code, "The request is not valid.", _fields(detail))
        return response
    detail_text = str(exc.detail) if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = error_body(code, detail_text)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, DisallowedHost):
        return JsonResponse(error_body("disallowed_host", "This host name is not served here."), status=400)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(
            error_body("payload_too_large", "The request body is larger than this API accepts."), status=413
        )
    return JsonResponse(error_body("bad_request", "The request could not be understood."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("permission_denied", "You may not do that."), status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("not_found", "Nothing is here."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("internal_error", "Something went wrong on our side."), status=500)
