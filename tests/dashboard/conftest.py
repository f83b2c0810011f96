"""Dashboard fixtures: settings for plain-HTTP sign-in, the seeded week, the report's fixed "now", staff accounts."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from appointments.schedule import AppointmentRules
from dashboard.views import dashboard_now
from handoff.settings import HandoffSettings
from service.settings import Settings
from staff.enums import StaffRole
from tests.dashboard.seed import NOW, Seeded, seed
from tests.handoff.conftest import ALWAYS_OPEN, add_agent


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with agents on duty around the clock."""
    return settings.model_copy(update={"handoff": HandoffSettings(**ALWAYS_OPEN)})


@pytest.fixture
def rules(settings: Settings) -> AppointmentRules:
    """The booking rules from the real offices.yml and catalogue."""
    return AppointmentRules.from_settings(settings.appointments, settings.timezone)


@pytest.fixture
def seeded(db_session: Session, rules: AppointmentRules) -> Seeded:
    """The known week, committed."""
    return seed(db_session, rules)


@pytest.fixture
def frozen_now(app: FastAPI) -> Callable[[], None]:
    """Reads the dashboard at the seed's "now"."""
    app.dependency_overrides[dashboard_now] = lambda: NOW
    return lambda: None


@pytest.fixture
def accounts(db_session: Session) -> dict[StaffRole, str]:
    """One console account per role: {role: username}."""
    names = {StaffRole.agent: "agent-a", StaffRole.supervisor: "super-s", StaffRole.operator: "oper-o"}
    for role, username in names.items():
        add_agent(db_session, username, role=role)
    return names
