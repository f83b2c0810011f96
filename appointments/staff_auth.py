"""Who may see and mark the day's bookings: console staff when the console login is installed, else the internal token.

The agent console sets ``app.state.staff_auth`` to a callable ``(request) ->
staff`` (sync or async) returning the signed-in member of staff (an object or
dict with ``username``) or None. Without it, staff routes accept the internal
API token (``Authorization: Bearer ...``) so operators' scripts keep working.
Swap ``require_staff`` for the console's own dependency if it grows roles.
"""

import hmac
import inspect
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from service.errors import ServiceError
from service.internal import require_internal_token


def _username(found: Any) -> str | None:
    if found is None:
        return None
    if isinstance(found, dict):
        name = found.get("username") or found.get("name")
    else:
        name = getattr(found, "username", None) or getattr(found, "name", None)
    return str(name)[:64] if name else None


async def require_staff(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """Returns the acting staff member's username, or refuses with 401."""
    staff_auth = getattr(request.app.state, "staff_auth", None)
    if staff_auth is not None:
        found = staff_auth(request)
        if inspect.isawaitable(found):
            found = await found
        username = _username(found)
        if username is not None:
            return username
        if authorization is None:
            raise ServiceError("staff sign-in required", code="unauthorized", status_code=401)
    require_internal_token(request, authorization)
    return "operator"


def check_staff_csrf(request: Request, submitted: str | None) -> None:
    """Rejects a state change from a cookie session whose CSRF token does not match (bearer calls need none)."""
    expected = getattr(request.state, "csrf_token", None)
    if expected is None:
        return
    token = submitted if submitted is not None else request.headers.get("x-csrf-token")
    if not token or not hmac.compare_digest(str(token).encode(), str(expected).encode()):
        raise ServiceError("missing or wrong CSRF token", code="csrf_failed", status_code=403)


StaffDep = Annotated[str, Depends(require_staff)]
