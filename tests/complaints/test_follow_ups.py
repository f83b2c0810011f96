"""Follow-up calls (回访): due after a resolution, listed for staff, outcomes recorded; not satisfied reopens."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from staff.enums import StaffRole
from tests.complaints.conftest import FrozenClock, file


def resolved(client: TestClient, internal_headers: dict[str, str], staff_headers: dict[str, str],
             **fields: Any) -> str:
    """Files a complaint and takes it to resolved; returns its number."""
    number = file(client, internal_headers, **fields)["number"]
    for step, text in (("first-response", "已收到"), ("plan", "约谈窗口人员"), ("resolution", "已整改并致歉")):
        response = client.post(f"/api/complaints/{number}/{step}", json={"text": text}, headers=staff_headers)
        assert response.status_code == 200, response.text
    return number


def pending(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/complaints/follow-ups", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_a_resolution_schedules_a_call_a_day_later(client: TestClient, internal_headers, staff_headers,
                                                   clock: FrozenClock) -> None:
    number = resolved(client, internal_headers, staff_headers)
    [call] = pending(client, staff_headers)
    assert call["number"] == number and call["status"] == "pending" and call["attempts"] == 0
    assert call["due_at"] == "2026-11-22T07:12:00Z" and call["is_due"] is False
    assert call["mobile_masked"] == "138****5678" and "13812345678" not in str(call)
    assert pending(client, staff_headers, due_only=True) == []
    clock.advance(hours=24)
    assert [c["number"] for c in pending(client, staff_headers, due_only=True)] == [number]


def test_the_delay_comes_from_the_settings(app: FastAPI, client: TestClient, internal_headers, staff_headers,
                                           clock: FrozenClock) -> None:
    app.state.settings.complaints.follow_up_after_minutes = 90
    resolved(client, internal_headers, staff_headers)
    assert pending(client, staff_headers)[0]["due_at"] == "2026-11-21T08:42:00Z"


def test_anonymous_complaints_have_nobody_to_call(client: TestClient, internal_headers, staff_headers,
                                                  clock: FrozenClock) -> None:
    number = resolved(client, internal_headers, staff_headers, mobile=None, anonymous=True)
    assert pending(client, staff_headers) == []
    refused = client.post(f"/api/complaints/{number}/follow-up", json={"outcome": "satisfied"},
                          headers=staff_headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_follow_up_pending"


def test_a_satisfied_citizen_ends_the_call(client: TestClient, internal_headers, staff_headers,
                                           clock: FrozenClock) -> None:
    number = resolved(client, internal_headers, staff_headers)
    clock.advance(hours=25)
    done = client.post(f"/api/complaints/{number}/follow-up", json={"outcome": "satisfied", "note": "感谢回访"},
                       headers=staff_headers)
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert done.json()["events"][-1]["kind"] == "follow_up"
    assert done.json()["events"][-1]["text"] == "市民表示满意：感谢回访"
    assert pending(client, staff_headers) == []
    again = client.post(f"/api/complaints/{number}/follow-up", json={"outcome": "reached"}, headers=staff_headers)
    assert again.status_code == 409
    # The ticket closes as before once the call is made.
    assert client.post(f"/api/complaints/{number}/close", json={"text": "归档"},
                       headers=staff_headers).json()["status"] == "closed"


def test_an_unreachable_citizen_is_called_again_then_the_call_ends(client: TestClient, internal_headers,
                                                                   staff_headers, clock: FrozenClock) -> None:
    number = resolved(client, internal_headers, staff_headers)
    clock.advance(hours=24)
    first = client.post(f"/api/complaints/{number}/follow-up", json={"outcome": "unreachable"}, headers=staff_headers)
    assert first.status_code == 200
    assert first.json()["events"][-1]["text"] == "第1次回访未接通，今天19:12再次回访"
    [call] = pending(client, staff_headers)
    assert call["attempts"] == 1 and call["due_at"] == "2026-11-22T11:12:00Z" and call["is_due"] is False
    clock.advance(hours=4)
    client.post(f"/api/complaints/{number}/follow-up", json={"outcome": "unreachable", "note": "关机"},
                headers=staff_headers)
    assert pending(client, staff_headers) == []
    events = client.get(f"/api/complaints/{number}", headers=staff_headers).json()["events"]
    assert events[-1]["text"] == "多次未能联系上市民：关机"


def test_a_citizen_not_satisfied_reopens_the_ticket_for_a_supervisor(client: TestClient, internal_headers,
                                                                     staff_headers, sign_in_as,
                                                                     clock: FrozenClock) -> None:
    number = resolved(client, internal_headers, staff_headers)
    clock.advance(hours=24)
    unexplained = client.post(f"/api/complaints/{number}/follow-up", json={"outcome": "not_satisfied"},
                              headers=staff_headers)
    assert unexplained.status_code == 422 and unexplained.json()["error"]["code"] == "note_required"
    assert len(pending(client, staff_headers)) == 1
    reopened = client.post(f"/api/complaints/{number}/follow-up",
                           json={"outcome": "not_satisfied", "note": "窗口人员仍未道歉"}, headers=staff_headers).json()
    assert reopened["status"] == "plan_given" and reopened["reopen_count"] == 1 and reopened["escalated"] is True
    assert reopened["resolved_at"] is None and reopened["urgency"] == "none"
    assert [e["kind"] for e in reopened["events"][-3:]] == ["follow_up", "reopened", "escalated"]
    [escalation] = client.get("/api/complaints/escalations", headers=staff_headers).json()
    assert escalation["number"] == number and escalation["reason"] == "follow_up_not_satisfied"
    listed = client.get("/api/complaints", headers=staff_headers).json()
    assert [t["number"] for t in listed] == [number]
    sign_in_as()
    page = client.get("/console/complaints").text
    assert "回访不满意·重新办理" in page and "回访时市民表示不满意" in page
    assert 'data-testid="warning-reopened"' in client.get(f"/console/complaints/{number}").text
    # Resolved again: a new call comes due.
    client.post(f"/api/complaints/{number}/resolution", json={"text": "当面致歉"}, headers=staff_headers)
    [call] = pending(client, staff_headers)
    assert call["due_at"] == "2026-11-23T07:12:00Z"


def test_bad_outcomes_are_refused(client: TestClient, internal_headers, staff_headers, clock: FrozenClock) -> None:
    number = resolved(client, internal_headers, staff_headers)
    for body in ({"outcome": "delighted"}, {"outcome": "reached", "extra": 1}, {"outcome": "reached", "note": 5},
                 {}):
        assert client.post(f"/api/complaints/{number}/follow-up", json=body,
                           headers=staff_headers).status_code == 422, body
    too_long = client.post(f"/api/complaints/{number}/follow-up", json={"outcome": "reached", "note": "长" * 3000},
                           headers=staff_headers)
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "text_too_long"
    assert pending(client, staff_headers)[0]["attempts"] == 0
    assert client.post("/api/complaints/TS20990101-0001/follow-up", json={"outcome": "reached"},
                       headers=staff_headers).status_code == 404


def test_the_clear_number_is_shown_only_for_a_pending_call_and_the_look_is_recorded(
        client: TestClient, internal_headers, staff_headers, sign_in_as, clock: FrozenClock) -> None:
    open_ticket = file(client, internal_headers, mobile="13900001111")["number"]
    csrf = {"X-CSRF-Token": sign_in_as(StaffRole.agent, "li.si")}
    refused = client.post(f"/api/complaints/{open_ticket}/contact", headers=csrf)
    assert refused.status_code == 409
    number = resolved(client, internal_headers, staff_headers)
    assert client.post(f"/api/complaints/{number}/contact").status_code == 403
    shown = client.post(f"/api/complaints/{number}/contact", headers=csrf)
    assert shown.status_code == 200 and shown.json() == {"number": number, "mobile": "13812345678"}
    events = client.get(f"/api/complaints/{number}").json()["events"]
    assert events[-1]["kind"] == "contact_viewed" and events[-1]["actor"] == "li.si"
    page = client.get(f"/console/complaints/{number}").text
    assert "13812345678" not in page and "138****5678" in page and 'id="reveal-contact"' in page


@pytest.mark.parametrize("outcome", ["reached", "satisfied"])
def test_the_ticket_page_records_the_call(client: TestClient, internal_headers, staff_headers, sign_in_as,
                                          clock: FrozenClock, outcome: str) -> None:
    number = resolved(client, internal_headers, staff_headers)
    clock.advance(hours=24, minutes=5)
    csrf = sign_in_as()
    listing = client.get("/console/complaints").text
    assert f'data-testid="follow-up-{number}"' in listing and "已到期" in listing
    assert "13812345678" not in listing
    detail = client.get(f"/console/complaints/{number}").text
    assert 'id="follow-up-form"' in detail and 'value="not_satisfied"' in detail
    missing = client.post(f"/console/complaints/{number}/follow-up", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert missing.headers["location"].endswith("?error=invalid_outcome")
    unexplained = client.post(f"/console/complaints/{number}/follow-up",
                              data={"outcome": "not_satisfied", "csrf_token": csrf}, follow_redirects=False)
    assert unexplained.headers["location"].endswith("?error=note_required")
    assert "请填写回访记录" in client.get(unexplained.headers["location"]).text
    done = client.post(f"/console/complaints/{number}/follow-up",
                       data={"outcome": outcome, "note": "已联系", "csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=1")
    detail = client.get(f"/console/complaints/{number}").text
    assert 'id="follow-up-form"' not in detail and "以往回访" in detail
    assert f'data-testid="follow-up-{number}"' not in client.get("/console/complaints").text
