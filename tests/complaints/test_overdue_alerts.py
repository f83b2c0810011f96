"""The live overdue warning: each ticket's deadline that goes past is announced once on the staff channel,
whichever instance checks and however often, and reaches an open console over its websocket."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from complaints.overdue import announce_overdue
from complaints.settings import ComplaintSettings
from service.app import create_app
from service.settings import Settings
from staff.enums import StaffRole
from staff.events import STAFF_TOPIC
from tests.complaints.conftest import FrozenClock, file


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The complaint settings with a background check every tenth of a second."""
    return settings.model_copy(update={"complaints": ComplaintSettings(overdue_check_seconds=0.1)})


@pytest.fixture
def staff_events(app: FastAPI) -> Iterator[asyncio.Queue[dict[str, Any]]]:
    """Everything published on the staff channel of the test app."""
    hub = app.state.router.hub
    queue = hub.subscribe(STAFF_TOPIC)
    yield queue
    hub.unsubscribe(STAFF_TOPIC, queue)


def drained(queue: asyncio.Queue[dict[str, Any]], settle: float = 0.5) -> list[dict[str, Any]]:
    """Waits for the background checks to run a few times, then takes every event published so far."""
    time.sleep(settle)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def announced(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((e["number"], e["deadline"]) for e in events if e["type"] == "complaint_overdue")


def test_each_deadline_is_announced_once(client: TestClient, internal_headers, staff_headers, clock: FrozenClock,
                                         staff_events) -> None:
    late = file(client, internal_headers, mobile="13800000001")["number"]
    answered = file(client, internal_headers, mobile="13800000002")["number"]
    client.post(f"/api/complaints/{answered}/first-response", json={"text": "已收到"}, headers=staff_headers)
    clock.advance(minutes=29)
    assert drained(staff_events) == []
    clock.advance(minutes=2)
    # The background check and explicit checks all race for it; it goes out once.
    client.portal.call(announce_overdue, client.app)  # type: ignore[union-attr]
    events = drained(staff_events)
    client.portal.call(announce_overdue, client.app)  # type: ignore[union-attr]
    assert announced(events + drained(staff_events)) == [(late, "first_response")]
    [event] = events
    assert event == {
        "type": "complaint_overdue", "number": late, "deadline": "first_response",
        "due_at": "2026-11-21T07:42:00+00:00", "category_label": "服务态度", "url": f"/console/complaints/{late}",
        "message": f"投诉 {late} 首次答复已超时（时限 11-21 15:42）", "link_label": "查看工单", "dismiss_label": "知道了"}
    clock.advance(hours=48)
    assert announced(drained(staff_events)) == sorted([(answered, "plan"), (late, "plan")])
    assert drained(staff_events) == []


def test_a_ticket_finished_in_time_is_never_announced(client: TestClient, internal_headers, staff_headers,
                                                      clock: FrozenClock, staff_events) -> None:
    number = file(client, internal_headers)["number"]
    client.post(f"/api/complaints/{number}/plan", json={"text": "立即整改"}, headers=staff_headers)
    withdrawn = file(client, internal_headers, mobile="13900000009")["number"]
    client.post("/internal/complaints/withdraw", headers=internal_headers,
                json={"ticket_number": withdrawn, "verification": "0009"})
    clock.advance(hours=72)
    assert drained(staff_events) == []


def test_two_instances_announce_a_warning_once(app: FastAPI, client: TestClient, settings: Settings,
                                               internal_headers, clock: FrozenClock, staff_events) -> None:
    number = file(client, internal_headers)["number"]
    other = create_app(settings)
    other.state.complaint_clock = clock
    other_events = other.state.router.hub.subscribe(STAFF_TOPIC)
    clock.advance(minutes=31)
    try:
        asyncio.run(announce_overdue(other))
        asyncio.run(announce_overdue(other))
    finally:
        other.state.database.dispose()
    events = drained(staff_events) + drained(other_events, settle=0)
    assert announced(events) == [(number, "first_response")]


def test_the_warning_reaches_an_open_console(client: TestClient, internal_headers, sign_in_as,
                                             clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    sign_in_as()
    with client.websocket_connect("/console/ws") as socket:
        clock.advance(minutes=31)
        event = socket.receive_json()
        while event.get("type") != "complaint_overdue":
            event = socket.receive_json()
    assert event["topic"] == "staff" and event["number"] == number and event["deadline"] == "first_response"


def test_every_page_of_staff_who_work_complaints_carries_the_warning(client: TestClient, sign_in_as,
                                                                     clock: FrozenClock) -> None:
    script = client.get("/console/static/complaints/overdue-alerts.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert 'addEventListener("console-event"' in script.text and 'setAttribute("role", "alert")' in script.text
    tag = '<script src="/console/static/complaints/overdue-alerts.js"></script>'
    sign_in_as()
    for path in ("/console", "/console/complaints", "/console/appointments"):
        assert client.get(path).text.count(tag) == 1, path
    sign_in_as(StaffRole.operator)
    assert tag not in client.get("/console/knowledge").text
