"""The error answers every API operation can give, added to the OpenAPI schema in one place.

drf-spectacular documents only what a view declares, so the schema listed no 4xx at all, although
``config.errors`` answers each of them with one body shape. This postprocessing hook adds, to each
operation, the errors its shape makes possible (credentials → 401, and 403 on writes; a body → 400/413/415; a
path parameter → 404, query parameters → 400), and gives every 4xx the error body. A view declares
only its own domain errors (409 ``job_not_cancellable``, …) with a description.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every 4xx: a stable machine-readable `code`, a `message` for people, per-field details.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
_DESCRIPTIONS = {
    "400": "`malformed_json`, `invalid_request` (see `fields`) or another code naming what is wrong.",
    "401": "`not_authenticated`, or a bad API token (`invalid_token`, …).",
    "403": "`permission_denied`, e.g. a session without its CSRF token.",
    "404": "`not_found`, `job_not_found`: nothing of yours by that id.",
    "413": "`payload_too_large`: the request body is larger than this API accepts.",
    "415": "`unsupported_media_type`: send `application/json`.",
}


def _codes(operation: dict[str, Any], method: str, parameters: list[dict[str, Any]]) -> set[str]:
    codes = set()
    if operation.get("security") and {} not in operation["security"]:
        codes.add("401")
        if method not in {"get", "head", "options"}:  # CSRF (sessions) and permissions
            codes.add("403")
    if "requestBody" in operation:
        codes |= {"400", "413", "415"}
    if any(parameter.get("in") == "path" for parameter in parameters):
        codes.add("404")
    if any(parameter.get("in") == "query" for parameter in parameters):
        codes.add("400")
    return codes


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}}}
    for path_item in result.get("paths", {}).values():
        shared = path_item.get("parameters", [])
        for method, operation in path_item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for code in _codes(operation, method, [*shared, *operation.get("parameters", [])]):
                responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code.startswith("4") and "content" not in response:
                    response["content"] = error_content
    return result
