"""Complaint fixtures: a frozen, movable clock and shortcuts for filing and staff headers."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

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
    """Headers of a member of staff when the console's login is not installed."""
    return {**internal_headers, "X-Staff-Name": "wang.li"}


def file(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Files a complaint through the internal API and returns the answer."""
    body = {"category": "staff_attitude", "description": "3号窗口工作人员态度很差，不耐烦地让我回去。",
            "mobile": "13812345678", **fields}
    response = client.post("/internal/complaints", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
