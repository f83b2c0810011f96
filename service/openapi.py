"""What the OpenAPI spec says about error answers: every status a route can give, in the one error shape."""

from typing import Any

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
