"""Staff fixtures: settings whose cookies the plain-HTTP test client sends back, one account per role."""

import pytest
from sqlalchemy.orm import Session

from service.settings import Settings
from staff.enums import StaffRole
from tests.handoff.conftest import add_agent


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The shared test settings, with cookies that need no HTTPS."""
    return Settings(
        database_url=database_url, rasa_url="http://127.0.0.1:9", action_server_url="http://127.0.0.1:9",
        rasa_token="rasa-token-for-tests-0001", internal_api_token="internal-token-for-tests-0001",
        secret_key="secret-key-for-tests-0001", health_timeout_seconds=0.5, rasa_timeout_seconds=2.0,
        cookie_secure=False,
    )


@pytest.fixture
def accounts(db_session: Session) -> dict[StaffRole, str]:
    """One account per role: {role: username}."""
    for role in StaffRole:
        add_agent(db_session, f"{role.value}-one", role=role)
    return {role: f"{role.value}-one" for role in StaffRole}
