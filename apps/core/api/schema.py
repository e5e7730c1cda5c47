"""Every API answer is documented: the error answers DRF gives on any endpoint are added
to each operation of the OpenAPI schema (a drf-spectacular postprocessing hook)."""

ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": True,
    "description": 'Field errors, {"field": ["message"]}, or {"detail": "message"}.',
}

COMMON_ERRORS = {
    "400": "Invalid input: the body names each field that is wrong.",
    "401": "No valid token or session.",
    "403": "The caller may not do this.",
    "415": "The body is not JSON (or form data where accepted).",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
}


def error_responses_add(result, generator, request, public):
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            errors = dict(COMMON_ERRORS)
            errors["404"] = "No such object, one the caller may not see, or a stale page cursor."
            if method in ("get", "delete"):
                errors.pop("415")
            for code, description in errors.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": ERROR_SCHEMA}},
                    },
                )
    return result
