"""Staff API and pages: who may work tickets (real console sign-in, roles, CSRF), urgency and SLA clocks, the
lifecycle with its history, pushing responses to the chat, escaping, bad input."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from complaints.models import Complaint, ComplaintEvent
from staff.enums import StaffRole
from tests.complaints.conftest import FrozenClock, file
from tests.support import as_citizen


def history_size(db_session: Session) -> int:
    """How many history steps all tickets have, read from the database."""
    count = db_session.scalar(select(func.count()).select_from(ComplaintEvent)) or 0
    # Every SQLite transaction here takes the write lock: end it before the app writes again.
    db_session.rollback()
    return count


def test_without_a_session_apis_answer_401_and_pages_send_to_login(client: TestClient, clock: FrozenClock) -> None:
    assert client.get("/api/complaints").status_code == 401
    assert client.get("/api/complaints/follow-ups").status_code == 401
    assert client.get("/api/complaints", headers={"Authorization": "Bearer wrong"}).status_code == 401
    for path in ("/console/complaints", "/console/complaints/hotspots", "/console/complaints/TS20261121-0001"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/console/login", path


def test_an_operator_is_refused_complaints(client: TestClient, internal_headers, sign_in_as, clock: FrozenClock,
                                           db_session: Session) -> None:
    number = file(client, internal_headers)["number"]
    csrf = sign_in_as(StaffRole.operator)
    assert client.get("/api/complaints").status_code == 403
    refused = client.post(f"/api/complaints/{number}/first-response", json={"text": "你好"},
                          headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    page = client.get("/console/complaints")
    assert page.status_code == 403 and 'id="forbidden-message"' in page.text
    assert client.post(f"/console/complaints/{number}/first-response", data={"text": "你好", "csrf_token": csrf},
                       follow_redirects=False).status_code == 403
    assert history_size(db_session) == 1


def test_an_agent_works_tickets_in_their_own_name(client: TestClient, internal_headers, sign_in_as,
                                                  clock: FrozenClock) -> None:
    filed = file(client, internal_headers)
    csrf = sign_in_as(StaffRole.agent, "zhang.san")
    response = client.post(f"/api/complaints/{filed['number']}/assign", json={"assignee": "zhang.san"},
                           headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    assert response.json()["events"][-1] == {"kind": "assigned", "actor": "zhang.san", "text": "zhang.san",
                                             "is_public": False, "created_at": "2026-11-21T07:12:00Z"}
    assert client.get("/console/complaints").status_code == 200


def test_changes_need_the_sessions_csrf_token(client: TestClient, internal_headers, sign_in_as, clock: FrozenClock,
                                              db_session: Session) -> None:
    number = file(client, internal_headers)["number"]
    sign_in_as()
    before = history_size(db_session)
    missing = client.post(f"/api/complaints/{number}/first-response", json={"text": "您好"})
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    assert client.post(f"/api/complaints/{number}/notes", json={"text": "备注"},
                       headers={"X-CSRF-Token": "forged"}).status_code == 403
    form = client.post(f"/console/complaints/{number}/first-response", data={"text": "你好"},
                       headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert form.status_code == 403
    assert history_size(db_session) == before


def test_only_supervisors_acknowledge_escalations(client: TestClient, internal_headers, staff_headers, sign_in_as,
                                                  clock: FrozenClock) -> None:
    file(client, internal_headers)
    file(client, internal_headers, mobile="13900000000", description="又是3号窗口态度差")
    escalations = client.get("/api/complaints/escalations", headers=staff_headers).json()
    assert len(escalations) == 1
    path = f"/api/complaints/escalations/{escalations[0]['id']}/acknowledge"
    csrf = sign_in_as(StaffRole.agent, "zhang.san")
    denied = client.post(path, headers={"X-CSRF-Token": csrf})
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    page = client.get("/console/complaints")
    assert "仅值班主管可确认" in page.text and "/acknowledge" not in page.text
    form = client.post(f"/console/complaints/escalations/{escalations[0]['id']}/acknowledge",
                       data={"csrf_token": csrf}, follow_redirects=False)
    assert form.status_code == 403 and 'id="forbidden-message"' in form.text
    csrf = sign_in_as(StaffRole.supervisor, "chen.zhuguan")
    assert f"/console/complaints/escalations/{escalations[0]['id']}/acknowledge" in client.get(
        "/console/complaints").text
    acknowledged = client.post(f"/console/complaints/escalations/{escalations[0]['id']}/acknowledge",
                               data={"csrf_token": csrf}, follow_redirects=False)
    assert acknowledged.status_code == 303
    assert client.get("/api/complaints/escalations").json() == []


def test_list_orders_by_urgency_with_both_clocks(client: TestClient, internal_headers, staff_headers,
                                                 clock: FrozenClock) -> None:
    oldest = file(client, internal_headers, mobile="13800000001")["number"]
    clock.advance(minutes=15)
    middle = file(client, internal_headers, mobile="13800000002")["number"]
    clock.advance(minutes=10)
    newest = file(client, internal_headers, mobile="13800000003")["number"]
    clock.advance(minutes=10)  # oldest 35 min (overdue), middle 20 min (10 left: due soon), newest 10 min
    listed = client.get("/api/complaints", headers=staff_headers).json()
    assert [(t["number"], t["urgency"]) for t in listed] == [
        (oldest, "overdue"), (middle, "due_soon"), (newest, "on_track")]
    first, plan = listed[0]["clocks"]
    assert first == {"deadline": "first_response", "due_at": "2026-11-21T07:42:00Z", "done_at": None,
                     "state": "overdue", "seconds_left": -300}
    assert plan["deadline"] == "plan" and plan["state"] == "on_track" and plan["seconds_left"] == 48 * 3600 - 35 * 60
    overdue = client.get("/api/complaints", params={"urgency": "overdue"}, headers=staff_headers).json()
    assert [t["number"] for t in overdue] == [oldest]


def test_list_page_draws_clocks_the_script_can_redraw(client: TestClient, internal_headers, sign_in_as,
                                                      clock: FrozenClock) -> None:
    overdue = file(client, internal_headers, mobile="13800000001")["number"]
    clock.advance(minutes=25)
    soon = file(client, internal_headers, mobile="13800000002")["number"]
    clock.advance(minutes=22)  # overdue by 17 minutes; the other has 8 minutes left
    sign_in_as()
    page = client.get("/console/complaints").text
    rows = re.findall(r'<tr class="(\w+)" data-number="([^"]+)"', page)
    assert rows == [("overdue", overdue), ("due_soon", soon)]
    assert 'data-now="2026-11-21T07:59:00+00:00"' in page and 'data-tick-seconds="30"' in page
    assert 'data-due="2026-11-21T07:42:00+00:00" data-state="overdue"' in page
    assert "已超时17分钟" in page and "剩余8分钟" in page and "剩余1天23小时" in page
    assert "首次答复（30分钟）" in page and "处理方案（48小时）" in page
    assert '/console/static/complaints/complaints.js' in page and '/console/static/complaints/overdue-alerts.js' in page
    assert " style=" not in page and "<style" not in page


def test_full_lifecycle_records_every_step(client: TestClient, internal_headers, staff_headers,
                                           clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    base = f"/api/complaints/{number}"
    assert client.post(f"{base}/close", json={"text": "结束"}, headers=staff_headers).status_code == 409
    assert client.post(f"{base}/assign", json={"assignee": "li.si"}, headers=staff_headers).status_code == 200
    clock.advance(minutes=20)
    first = client.post(f"{base}/first-response", json={"text": "您好，已收到，正在核实。"}, headers=staff_headers)
    assert first.json()["status"] == "acknowledged"
    assert first.json()["urgency"] == "on_track"
    assert first.json()["current_due"] == "2026-11-23T07:12:00Z"
    assert first.json()["clocks"][0]["state"] == "met"
    again = client.post(f"{base}/first-response", json={"text": "重复"}, headers=staff_headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_acknowledged"
    assert client.post(f"{base}/plan", json={"text": "  "}, headers=staff_headers).status_code == 422
    clock.advance(hours=3)
    assert client.post(f"{base}/notes", json={"text": "已调取监控"}, headers=staff_headers).status_code == 200
    assert client.post(f"{base}/plan", json={"text": "约谈当事人并整改"}, headers=staff_headers).json()["status"] == "plan_given"
    assert client.post(f"{base}/resolution", json={"text": "已整改并致歉"}, headers=staff_headers).json()["status"] == "resolved"
    closed = client.post(f"{base}/close", json={"text": "市民表示满意"}, headers=staff_headers).json()
    assert closed["status"] == "closed"
    assert [(e["kind"], e["actor"]) for e in closed["events"]] == [
        ("submitted", "citizen"), ("assigned", "wang.li"), ("first_response", "wang.li"), ("note", "wang.li"),
        ("plan", "wang.li"), ("resolution", "wang.li"), ("closed", "wang.li")]
    assert closed["first_response_at"] == "2026-11-21T07:32:00Z"
    assert client.post(f"{base}/plan", json={"text": "迟到的方案"}, headers=staff_headers).status_code == 409


def test_unknown_and_malformed_tickets_change_nothing(client: TestClient, internal_headers, staff_headers,
                                                      sign_in_as, clock: FrozenClock, db_session: Session) -> None:
    file(client, internal_headers)
    before = history_size(db_session)
    response = client.post("/api/complaints/TS20990101-0001/plan", json={"text": "x"}, headers=staff_headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "complaint_not_found"
    assert client.post(f"/api/complaints/{'T' * 100}/plan", json={"text": "x"}, headers=staff_headers).status_code == 422
    too_long = client.post("/api/complaints/TS20990101-0001/notes", json={"text": "x" * 5000}, headers=staff_headers)
    assert too_long.status_code == 404
    csrf = sign_in_as()
    assert client.get("/console/complaints/TS20990101-0001").status_code == 404
    assert client.post("/console/complaints/TS20990101-0001/plan", data={"text": "x", "csrf_token": csrf},
                       follow_redirects=False).status_code == 404
    assert client.post("/console/complaints/TS20990101-0001/explode", data={"text": "x", "csrf_token": csrf},
                       follow_redirects=False).status_code == 404
    assert history_size(db_session) == before
    db_session.expire_all()
    assert db_session.scalar(select(Complaint.status)) == "submitted"
    db_session.rollback()


def test_staff_response_reaches_the_citizens_chat(client: TestClient, internal_headers, staff_headers,
                                                  clock: FrozenClock) -> None:
    # The citizen's message goes through the router first (the bot is down in tests, the message is kept).
    client.post("/api/conversations/chat-42/messages", headers=as_citizen(client, "chat-42"), json={"text": "我要投诉"})
    number = file(client, internal_headers, conversation_id="chat-42")["number"]
    client.post(f"/api/complaints/{number}/first-response", json={"text": "您好，我们已联系窗口负责人。"},
                headers=staff_headers)
    messages = client.get("/api/conversations/chat-42/messages", headers=as_citizen(client, "chat-42")).json()["messages"]
    assert messages[-1]["sender"] == "system"
    assert messages[-1]["text"] == f"您的投诉 {number} 有新进展（首次答复）：您好，我们已联系窗口负责人。"


def test_pages_escape_everything_and_warn_of_urgency_and_repeats(client: TestClient, internal_headers, sign_in_as,
                                                                 clock: FrozenClock) -> None:
    first = file(client, internal_headers, description="<script>alert(1)</script>3号窗口人员态度差")["number"]
    clock.advance(minutes=25)
    repeat = file(client, internal_headers, mobile="13900000000", description="又是3号窗口态度差")["number"]
    clock.advance(minutes=10)
    sign_in_as()
    page = client.get("/console/complaints")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert f'<tr class="overdue" data-number="{first}"' in page.text and "重复投诉" in page.text
    detail = client.get(f"/console/complaints/{first}")
    assert "&lt;script&gt;" in detail.text and "<script>alert" not in detail.text
    assert 'data-testid="warning-overdue-first_response"' in detail.text and "首次答复已超时" in detail.text
    repeated = client.get(f"/console/complaints/{repeat}").text
    assert 'data-testid="warning-repeat"' in repeated and f'href="/console/complaints/{first}"' in repeated


def test_page_forms_record_steps_with_the_csrf_field(client: TestClient, internal_headers, sign_in_as,
                                                     clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    csrf = sign_in_as(StaffRole.agent, "li.si")
    detail = client.get(f"/console/complaints/{number}").text
    assert f'name="csrf_token" value="{csrf}"' in detail
    assert all(f'id="{form}-form"' in detail for form in ("first-response", "plan", "resolution", "note"))
    done = client.post(f"/console/complaints/{number}/first-response", data={"text": "<b>已收到</b>",
                                                                             "csrf_token": csrf},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/console/complaints/{number}?done=1"
    twice = client.post(f"/console/complaints/{number}/first-response", data={"text": "再次", "csrf_token": csrf},
                        follow_redirects=False)
    assert twice.headers["location"].endswith("?error=already_acknowledged")
    assert "首次答复已记录过" in client.get(twice.headers["location"]).text
    empty = client.post(f"/console/complaints/{number}/note", data={"text": "  ", "csrf_token": csrf},
                        follow_redirects=False)
    assert empty.headers["location"].endswith("?error=empty_text")
    client.post(f"/console/complaints/{number}/note", data={"text": "已电话联系窗口", "csrf_token": csrf})
    detail = client.get(f"/console/complaints/{number}").text
    assert "&lt;b&gt;已收到&lt;/b&gt;" in detail and "内部备注" in detail and "已电话联系窗口" in detail
    timeline = re.findall(r'<li data-kind="(\w+)"', detail)
    assert timeline == ["submitted", "first_response", "note"]


def test_hotspot_report_groups_by_category_window_and_week(client: TestClient, internal_headers, staff_headers,
                                                           sign_in_as, clock: FrozenClock) -> None:
    file(client, internal_headers, mobile="13800000001", description="3号窗口态度差")
    file(client, internal_headers, mobile="13800000002", description="3号窗口又不耐烦")
    file(client, internal_headers, mobile="13800000003", category="facilities", description="厕所太脏了")
    report = client.get("/api/complaints/reports/hotspots", headers=staff_headers).json()
    assert report[0] == {"category": "staff_attitude", "category_label": "服务态度", "window": "3",
                         "week": "2026-W47", "count": 2, "repeats": 1}
    assert report[1]["category"] == "facilities" and report[1]["window"] is None
    sign_in_as()
    page = client.get("/console/complaints/hotspots")
    assert "2026-W47" in page.text and 'aria-current="page"' in page.text
