"""Staff roles and the console areas each role may enter: the one table every page and API checks."""

from enum import StrEnum


class StaffRole(StrEnum):
    """What a member of staff does: agents answer citizens, supervisors run the team, operators keep the answers."""

    agent = "agent"
    supervisor = "supervisor"
    operator = "operator"


class Area(StrEnum):
    """A part of the console; its pages and APIs are open to the roles in AREA_ROLES."""

    workspace = "workspace"
    appointments = "appointments"
    complaints = "complaints"
    knowledge = "knowledge"
    dashboard = "dashboard"


AREA_ROLES: dict[Area, frozenset[StaffRole]] = {
    Area.workspace: frozenset({StaffRole.agent, StaffRole.supervisor}),
    Area.appointments: frozenset({StaffRole.agent, StaffRole.supervisor}),
    Area.complaints: frozenset({StaffRole.agent, StaffRole.supervisor}),
    Area.knowledge: frozenset({StaffRole.operator, StaffRole.supervisor}),
    Area.dashboard: frozenset({StaffRole.supervisor}),
}

# Where each role lands after signing in.
HOME_AREA: dict[StaffRole, Area] = {
    StaffRole.agent: Area.workspace,
    StaffRole.supervisor: Area.workspace,
    StaffRole.operator: Area.knowledge,
}


def may_enter(role: str, area: Area) -> bool:
    """Tells whether a role may use an area's pages and APIs."""
    return role in AREA_ROLES[area]
