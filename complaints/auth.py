"""Who may work complaint tickets: console staff when the console's login is installed, else the internal token.

The agent console sets ``app.state.staff_auth`` to a callable ``(request) ->
staff`` (sync or async) that returns the signed-in member of staff (an object
or dict with ``username`` and ``role``), returns None, or raises when nobody is
signed in. Without it, staff routes accept the internal API token and take the
acting name from the ``X-Staff-Name`` header.
"""

import inspect
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from service.errors import ServiceError
from service.internal import require_internal_token

SUPERVISOR_ROLES = ("supervisor", "admin")


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
    """Returns the signed-in staff member, or refuses the request with 401."""
    staff_auth = getattr(request.app.state, "staff_auth", None)
    if staff_auth is not None:
        found = staff_auth(request)
        if inspect.isawaitable(found):
            found = await found
        member = _read_member(found)
        if member is None:
            raise ServiceError("staff sign-in required", code="unauthorized", status_code=401)
        return member
    require_internal_token(request, authorization)
    name = (x_staff_name or "staff").strip()[:64] or "staff"
    return StaffMember(username=name, role="supervisor")


StaffDep = Annotated[StaffMember, Depends(require_staff)]
