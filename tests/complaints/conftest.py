"""Complaint fixtures: a frozen, movable clock, shortcuts for filing and staff headers, console sign-in."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from staff.enums import StaffRole
from tests.handoff.conftest import add_agent, sign_in

# 2026-11-21 15:12 in Shanghai.
START = datetime(2026, 11, 21, 7, 12, tzinfo=UTC)


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)




@pytest.fixture
def clock(app: FastAPI) -> FrozenClock:
    """Freezes the complaints clock of the test app at START."""
    frozen = FrozenClock(START)
    app.state.complaint_clock = frozen
    return frozen


@pytest.fixture
def staff_headers(internal_headers: dict[str, str]) -> dict[str, str]:
    """Headers of a script acting for a member of staff with the internal token (it acts as a supervisor)."""
    return {**internal_headers, "X-Staff-Name": "wang.li"}


def file(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Files a complaint through the internal API and returns the answer."""
    body = {"category": "staff_attitude", "description": "3号窗口工作人员态度很差，不耐烦地让我回去。",
            "mobile": "13812345678", **fields}
    response = client.post("/internal/complaints", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def sign_in_as(client: TestClient, db_session: Session) -> Callable[..., str]:
    """Signs the client in to the console with a new account of a role; returns the session's CSRF token."""

    def signed_in(role: StaffRole = StaffRole.agent, username: str | None = None) -> str:
        username = username or f"{role.value}-desk"
        add_agent(db_session, username, role=role)
        return sign_in(client, username)

    return signed_in
