"""Guessing a ticket's digits: strangers never lock the owner out, a storm on one ticket alerts staff."""

import logging

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.attempts import AttemptAlert
from service.database import Database
from tests.complaints.conftest import FrozenClock, file


def lookup(client: TestClient, headers, number: str, digits: str | None, requester: str):
    return client.post("/internal/complaints/lookup", headers=headers,
                       json={"ticket_number": number, "verification": digits, "requester": requester})


def test_many_strangers_guessing_do_not_lock_the_owner_out(client: TestClient, internal_headers,
                                                           clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    for stranger in range(3):
        for guess in range(7):
            lookup(client, internal_headers, number, f"{guess:04d}", requester=f"stranger-{stranger}")
        assert lookup(client, internal_headers, number, "5678", requester=f"stranger-{stranger}").status_code == 429
    owner = lookup(client, internal_headers, number, "5678", requester="owner")
    assert owner.status_code == 200 and owner.json()["number"] == number
    added = client.post("/internal/complaints/info", headers=internal_headers,
                        json={"ticket_number": number, "verification": "5678", "requester": "owner", "text": "补充说明"})
    assert added.status_code == 200


def test_the_owners_own_mistakes_are_forgiven_by_a_success(client: TestClient, internal_headers,
                                                           clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    for _ in range(2):
        for guess in range(4):
            assert lookup(client, internal_headers, number, f"{guess:04d}", requester="owner").status_code == 404
        assert lookup(client, internal_headers, number, "5678", requester="owner").status_code == 200


def test_a_storm_on_one_ticket_alerts_staff(client: TestClient, internal_headers, clock: FrozenClock,
                                            database_url: str, caplog) -> None:
    number = file(client, internal_headers)["number"]
    caplog.set_level(logging.WARNING, logger="service.attempts")
    for requester in range(5):
        for guess in range(4):
            lookup(client, internal_headers, number, f"{requester}{guess}11", requester=f"chat-{requester}")
    database = Database(database_url)
    with database.session() as s:
        alerts = s.scalars(select(AttemptAlert)).all()
    database.dispose()
    assert [(a.kind, a.subject) for a in alerts] == [("lookup_storm", f"complaint:{number}")]
    assert any(r.levelno == logging.WARNING and number in r.getMessage() for r in caplog.records)
    # A new window, a new storm, a new alert.
    clock.advance(minutes=61)
    for requester in range(5, 10):
        for guess in range(4):
            lookup(client, internal_headers, number, f"{requester}{guess}11", requester=f"chat-{requester}")
    database = Database(database_url)
    with database.session() as s:
        assert len(s.scalars(select(AttemptAlert)).all()) == 2
    database.dispose()
