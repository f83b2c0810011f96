"""Staff API and pages: urgency, the lifecycle with its history, pushing responses to the chat, escaping."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.complaints.conftest import FrozenClock, file
from tests.support import as_citizen


def test_staff_routes_need_credentials(client: TestClient, clock: FrozenClock) -> None:
    assert client.get("/api/complaints").status_code == 401
    assert client.get("/console/complaints").status_code == 401
    assert client.get("/api/complaints", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_console_login_is_used_when_installed(app: FastAPI, client: TestClient, internal_headers,
                                              clock: FrozenClock) -> None:
    filed = file(client, internal_headers)
    app.state.staff_auth = lambda request: {"username": "zhang.san", "role": "agent"} \
        if request.cookies.get("session") == "ok" else None
    assert client.get("/api/complaints").status_code == 401
    client.cookies.set("session", "ok")
    response = client.post(f"/api/complaints/{filed['number']}/assign", json={"assignee": "zhang.san"})
    assert response.status_code == 200
    assert response.json()["events"][-1] == {"kind": "assigned", "actor": "zhang.san", "text": "zhang.san",
                                             "is_public": False, "created_at": "2026-11-21T07:12:00Z"}


def test_only_supervisors_acknowledge_escalations(app: FastAPI, client: TestClient, internal_headers,
                                                  staff_headers, clock: FrozenClock) -> None:
    file(client, internal_headers)
    file(client, internal_headers, mobile="13900000000", description="又是3号窗口态度差")
    escalations = client.get("/api/complaints/escalations", headers=staff_headers).json()
    assert len(escalations) == 1
    app.state.staff_auth = lambda request: {"username": "zhang.san", "role": "agent"}
    denied = client.post(f"/api/complaints/escalations/{escalations[0]['id']}/acknowledge")
    assert denied.status_code == 403
    app.state.staff_auth = lambda request: {"username": "chen.zhuguan", "role": "supervisor"}
    assert client.post(f"/api/complaints/escalations/{escalations[0]['id']}/acknowledge").status_code == 200
    assert client.get("/api/complaints/escalations").json() == []


def test_list_orders_by_urgency(client: TestClient, internal_headers, staff_headers, clock: FrozenClock) -> None:
    oldest = file(client, internal_headers, mobile="13800000001")["number"]
    clock.advance(minutes=15)
    middle = file(client, internal_headers, mobile="13800000002")["number"]
    clock.advance(minutes=10)
    newest = file(client, internal_headers, mobile="13800000003")["number"]
    clock.advance(minutes=10)  # oldest 35 min (overdue), middle 20 min (10 left: due soon), newest 10 min
    listed = client.get("/api/complaints", headers=staff_headers).json()
    assert [(t["number"], t["urgency"]) for t in listed] == [
        (oldest, "overdue"), (middle, "due_soon"), (newest, "on_track")]
    overdue = client.get("/api/complaints", params={"urgency": "overdue"}, headers=staff_headers).json()
    assert [t["number"] for t in overdue] == [oldest]


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
    again = client.post(f"{base}/first-response", json={"text": "重复"}, headers=staff_headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_acknowledged"
    assert client.post(f"{base}/plan", json={"text": "  "}, headers=staff_headers).status_code == 422
    clock.advance(hours=3)
    assert client.post(f"{base}/plan", json={"text": "约谈当事人并整改"}, headers=staff_headers).json()["status"] == "plan_given"
    assert client.post(f"{base}/resolution", json={"text": "已整改并致歉"}, headers=staff_headers).json()["status"] == "resolved"
    closed = client.post(f"{base}/close", json={"text": "市民表示满意"}, headers=staff_headers).json()
    assert closed["status"] == "closed"
    assert [(e["kind"], e["actor"]) for e in closed["events"]] == [
        ("submitted", "citizen"), ("assigned", "wang.li"), ("first_response", "wang.li"), ("plan", "wang.li"),
        ("resolution", "wang.li"), ("closed", "wang.li")]
    assert closed["first_response_at"] == "2026-11-21T07:32:00Z"
    assert client.post(f"{base}/plan", json={"text": "迟到的方案"}, headers=staff_headers).status_code == 409


def test_unknown_ticket_is_404(client: TestClient, staff_headers, clock: FrozenClock) -> None:
    response = client.post("/api/complaints/TS20990101-0001/plan", json={"text": "x"}, headers=staff_headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "complaint_not_found"


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


def test_pages_escape_everything_and_highlight_urgency(client: TestClient, internal_headers, staff_headers,
                                                       clock: FrozenClock) -> None:
    number = file(client, internal_headers, description="<script>alert(1)</script>窗口人员态度差")["number"]
    clock.advance(minutes=25)
    page = client.get("/console/complaints", headers=staff_headers)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert '<tr class="due_soon">' in page.text
    detail = client.get(f"/console/complaints/{number}", headers=staff_headers)
    assert "&lt;script&gt;" in detail.text and "<script>" not in detail.text


def test_page_forms_record_steps_and_refuse_cross_site_posts(client: TestClient, internal_headers, staff_headers,
                                                             clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    refused = client.post(f"/console/complaints/{number}/first-response", data={"text": "你好"},
                          headers={**staff_headers, "Origin": "https://evil.example"})
    assert refused.status_code == 403
    done = client.post(f"/console/complaints/{number}/first-response", data={"text": "<b>已收到</b>"},
                       headers=staff_headers, follow_redirects=False)
    assert done.status_code == 303
    detail = client.get(f"/console/complaints/{number}", headers=staff_headers)
    assert "&lt;b&gt;已收到&lt;/b&gt;" in detail.text


def test_hotspot_report_groups_by_category_window_and_week(client: TestClient, internal_headers, staff_headers,
                                                           clock: FrozenClock) -> None:
    file(client, internal_headers, mobile="13800000001", description="3号窗口态度差")
    file(client, internal_headers, mobile="13800000002", description="3号窗口又不耐烦")
    file(client, internal_headers, mobile="13800000003", category="facilities", description="厕所太脏了")
    report = client.get("/api/complaints/reports/hotspots", headers=staff_headers).json()
    assert report[0] == {"category": "staff_attitude", "category_label": "服务态度", "window": "3",
                         "week": "2026-W47", "count": 2, "repeats": 1}
    assert report[1]["category"] == "facilities" and report[1]["window"] is None
    page = client.get("/console/complaints/hotspots", headers=staff_headers)
    assert "2026-W47" in page.text
