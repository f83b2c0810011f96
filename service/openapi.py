"""What the OpenAPI spec says about error answers: every status a route can give, in the one error shape."""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    """The inside of an error answer."""

    code: str
    message: str
    details: Any = None


class ErrorRead(BaseModel):
    """The one error shape of every entry point: {"error": {"code", "message", "details"}}."""

    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing or wrong credentials",
    403: "Not allowed for this caller",
    404: "Not found (or not yours: the same answer)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Failed validation",
    429: "Too many attempts; see Retry-After",
    503: "A dependency is unavailable",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry documenting these error statuses."""
    return {status: {"model": ErrorRead, "description": _DESCRIPTIONS.get(status, "Error")} for status in statuses}


_ERROR_REF = {"$ref": "#/components/schemas/ErrorRead"}
# FastAPI's own documentation of validation errors, which the service never sends (service/errors.py answers
# RequestValidationError in the error envelope, code invalid_request or malformed_json).
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": dict(_ERROR_REF)}}


def _references(value: Any, name: str) -> bool:
    if isinstance(value, dict):
        return value.get("$ref") == f"#/components/schemas/{name}" or any(_references(v, name) for v in value.values())
    if isinstance(value, list):
        return any(_references(v, name) for v in value)
    return False


def _error_envelope_is_json(status: str, answer: dict[str, Any]) -> None:
    # FastAPI files a response model under the route's own media type (text/html, text/plain ...); the error
    # handlers always answer JSON.
    content = answer.get("content", {})
    if not status.startswith(("4", "5")):
        return
    for media_type in [m for m in content if m != "application/json"]:
        if content[media_type].get("schema") == _ERROR_REF:
            content.setdefault("application/json", content.pop(media_type))


def document_common_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Documents in the spec what every route answers whatever its own code does.

    - 422 is the error envelope (code invalid_request, malformed_json or invalid_unicode): FastAPI documents
      its own HTTPValidationError shape, which is never sent;
    - every operation with a request body may answer 413: the body size limit runs before any route;
    - the error envelope is JSON whatever media type the route answers otherwise.
    """
    error_schema = ErrorRead.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in error_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ErrorRead", error_schema)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if responses is None:
                continue
            if "requestBody" in operation:
                responses.setdefault("413", {"description": _DESCRIPTIONS[413], "content": _error_content()})
            for status, answer in responses.items():
                _error_envelope_is_json(status, answer)
            validation = responses.get("422")
            if validation is not None and _references(validation, "HTTPValidationError"):
                responses["422"] = {"description": _DESCRIPTIONS[422], "content": _error_content()}
    if not any(_references(schema.get("paths", {}), name) for name in _FASTAPI_VALIDATION_SCHEMAS):
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            components.pop(name, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Makes the app's generated spec document the answers common to every route (see document_common_errors)."""
    generate = app.openapi
    documented: dict[str, int] = {}

    def openapi() -> dict[str, Any]:
        schema = generate()
        if documented.get("schema") != id(schema):
            document_common_errors(schema)
            documented["schema"] = id(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
