"""Guards the /internal/* API that the action server calls with a shared token."""

from typing import Annotated

from fastapi import Depends, Header, Request

from service.errors import ServiceError
from service.secrets import matches_any


def require_internal_token(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Accepts only ``Authorization: Bearer <internal_api_token>``."""
    if not matches_any(authorization, [f"Bearer {request.app.state.settings.internal_api_token}"]):
        raise ServiceError("missing or wrong internal API token", code="unauthorized", status_code=401)


InternalAuth = Depends(require_internal_token)
InternalAuthDep = Annotated[None, InternalAuth]
