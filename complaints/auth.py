"""Who may work complaint tickets: console staff signed in through the console's login, or the internal token.

The agent console sets ``app.state.staff_auth`` to a callable ``(request) ->
staff`` (sync or async) that returns the signed-in member of staff (an object
or dict with ``username`` and ``role``) or None, and may put the session's
CSRF token on ``request.state.csrf_token``; state-changing requests then need
it in the ``X-CSRF-Token`` header or a ``csrf_token`` form field. Callers with
the internal API token (scripts, other services) act as a supervisor named by
the ``X-Staff-Name`` header.
"""

import hmac
import inspect
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from service.errors import ServiceError
from service.internal import require_internal_token

SUPERVISOR_ROLES = ("supervisor", "admin")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class StaffMember:
    """The member of staff acting on a ticket."""

    username: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        """Tells whether this member may acknowledge escalations."""
        return self.role in SUPERVISOR_ROLES


def _read_member(found: Any) -> StaffMember | None:
    if found is None:
        return None
    if isinstance(found, StaffMember):
        return found
    if isinstance(found, dict):
        name, role = found.get("username") or found.get("name"), found.get("role", "agent")
    else:
        name = getattr(found, "username", None) or getattr(found, "name", None)
        role = getattr(found, "role", "agent")
    return StaffMember(username=str(name)[:64], role=str(role)) if name else None


async def require_staff(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_staff_name: Annotated[str | None, Header()] = None,
) -> StaffMember:
    """Returns the acting member of staff, or refuses the request with 401 (403 on a CSRF mismatch)."""
    staff_auth = getattr(request.app.state, "staff_auth", None)
    if staff_auth is None or (authorization or "").startswith("Bearer "):
        require_internal_token(request, authorization)
        name = (x_staff_name or "staff").strip()[:64] or "staff"
        return StaffMember(username=name, role="supervisor")
    found = staff_auth(request)
    if inspect.isawaitable(found):
        found = await found
    member = _read_member(found)
    if member is None:
        raise ServiceError("staff sign-in required", code="unauthorized", status_code=401)
    expected = getattr(request.state, "csrf_token", None)
    if expected and request.method not in SAFE_METHODS:
        submitted = request.headers.get("x-csrf-token")
        if submitted is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
            submitted = str((await request.form()).get("csrf_token") or "")
        if not submitted or not hmac.compare_digest(submitted.encode(), str(expected).encode()):
            raise ServiceError("missing or wrong CSRF token", code="csrf_failed", status_code=403)
    return member


StaffDep = Annotated[StaffMember, Depends(require_staff)]
