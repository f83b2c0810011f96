"""Staff fixtures: one account per role."""

import pytest
from sqlalchemy.orm import Session

from staff.enums import StaffRole
from tests.handoff.conftest import add_agent


@pytest.fixture
def accounts(db_session: Session) -> dict[StaffRole, str]:
    """One account per role: {role: username}."""
    for role in StaffRole:
        add_agent(db_session, f"{role.value}-one", role=role)
    return {role: f"{role.value}-one" for role in StaffRole}
