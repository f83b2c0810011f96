"""Guessing a booking's digits: limited per (code, requester) and per requester, storms alerted, owners unaffected."""

import logging
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.attempts import AttemptAlert
from service.database import Database
from tests.appointments.conftest import booking_body
from tests.complaints.conftest import FrozenClock

BASE = "/internal/appointments"
START = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(app: FastAPI) -> FrozenClock:
    """Freezes the attempt clock."""
    frozen = FrozenClock(START)
    app.state.attempt_clock = frozen
    return frozen


def booked_code(client: TestClient, headers: dict) -> str:
    response = client.post(f"{BASE}/bookings", json=booking_body(), headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


def lookup(client: TestClient, headers: dict, code: str, digits: str, requester: str | None = "chat-owner",
           operation: str = "lookup"):
    body = {"code": code, "mobile_last4": digits, **({"requester": requester} if requester else {})}
    return client.post(f"{BASE}/bookings/{operation}", json=body, headers=headers)


def test_a_requester_guessing_the_digits_is_throttled_but_not_the_owner(client, internal_headers, set_clock,
                                                                       clock) -> None:
    code = booked_code(client, internal_headers)
    for guess in range(5):
        wrong = lookup(client, internal_headers, code, f"{guess:04d}", requester="chat-stranger")
        assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "booking_not_found"
    for operation in ("lookup", "cancel"):
        refused = lookup(client, internal_headers, code, "8000", requester="chat-stranger", operation=operation)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_attempts"
        assert refused.headers["Retry-After"] == "3600"
        assert refused.json()["error"]["details"] == {"retry_after_seconds": 3600}
    owner = lookup(client, internal_headers, code, "8000", requester="chat-owner")
    assert owner.status_code == 200 and owner.json()["status"] == "booked"
    clock.advance(seconds=3600)
    assert lookup(client, internal_headers, code, "8000", requester="chat-stranger").status_code == 200


def test_a_requester_trying_many_codes_is_throttled(client, internal_headers, set_clock, clock) -> None:
    code = booked_code(client, internal_headers)
    for letter in "ABCDEFGHJK":
        lookup(client, internal_headers, f"{letter}BC234", "1111", requester="chat-scanner")
    assert lookup(client, internal_headers, code, "8000", requester="chat-scanner").status_code == 429
    assert lookup(client, internal_headers, code, "8000", requester="chat-owner").status_code == 200


def test_reschedule_counts_wrong_digits_too(client, internal_headers, set_clock, clock) -> None:
    code = booked_code(client, internal_headers)
    body = {"code": code, "mobile_last4": "0000", "requester": "chat-x", "day": "2026-11-20", "start": "14:00"}
    assert [client.post(f"{BASE}/bookings/reschedule", json=body, headers=internal_headers).status_code
            for _ in range(6)] == [404] * 5 + [429]


def test_without_a_requester_the_client_address_counts(client, internal_headers, set_clock, clock) -> None:
    code = booked_code(client, internal_headers)
    for guess in range(5):
        assert lookup(client, internal_headers, code, f"{guess:04d}", requester=None).status_code == 404
    assert lookup(client, internal_headers, code, "8000", requester=None).status_code == 429
    assert lookup(client, internal_headers, code, "8000", requester="chat-owner").status_code == 200


def test_a_storm_on_one_booking_alerts_staff(client, internal_headers, set_clock, clock, database_url,
                                              caplog) -> None:
    code = booked_code(client, internal_headers)
    caplog.set_level(logging.WARNING, logger="service.attempts")
    for requester in range(5):
        for guess in range(4):
            lookup(client, internal_headers, code, f"{requester}{guess}00", requester=f"chat-{requester}")
    for guess in range(3):  # the storm goes on: still one alert
        lookup(client, internal_headers, code, f"99{guess}9", requester="chat-9")
    database = Database(database_url)
    with database.session() as s:
        alerts = s.scalars(select(AttemptAlert)).all()
    database.dispose()
    assert [(a.kind, a.subject) for a in alerts] == [("lookup_storm", f"booking:{code}")]
    assert alerts[0].details["failures"] == 20 and alerts[0].details["requesters"] == 5
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "lookup_storm" in r.getMessage()]
    assert len(warnings) == 1 and code in warnings[0].getMessage()
    # Nobody is locked out by the storm: the owner still gets in.
    assert lookup(client, internal_headers, code, "8000", requester="chat-owner").status_code == 200
