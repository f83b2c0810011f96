"""Handoff through the router: queue, position, cancel, bot silence, claim, reply, close, rating."""

from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from conversations.models import Message
from conversations.rasa_client import RasaClient
from handoff.models import HandoffTicket, TicketRating
from handoff.settings import HandoffSettings
from tests.handoff.conftest import ALWAYS_OPEN, sign_in
from tests.support import as_citizen


def tickets(app: FastAPI) -> list[HandoffTicket]:
    with app.state.database.session() as s:
        return list(s.scalars(select(HandoffTicket).order_by(HandoffTicket.id)))


def transcript(client: TestClient, conversation_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/conversations/{conversation_id}/messages", headers=as_citizen(client, conversation_id)).json()["messages"])


def test_ticket_queues_with_summary_masked_context_and_position(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    first = open_ticket("citizen-1", "explicit")
    second = open_ticket("citizen-2", "explicit")
    assert first["status"] == "queued" and first["position"] == 1 and first["agents_online"] == 1
    assert second["position"] == 2 and second["estimated_wait_minutes"] >= first["estimated_wait_minutes"]
    assert "第 2 位" in second["message"]
    ticket = tickets(app)[0]
    assert ticket.summary == "市民咨询公积金提取，三次未被理解，情绪激动，要求人工。"
    joined = " ".join(turn["text"] for turn in ticket.turns)
    assert "13812345678" not in joined and "138****5678" in joined
    assert "110101199003071234" not in joined and "110101********1234" in joined
    assert ticket.slots["id_number"] == "******" and ticket.contact_mobile == "13812345678"
    mode = client.get("/api/conversations/citizen-1/messages", headers=as_citizen(client, "citizen-1")).json()["mode"]
    assert mode == "waiting"


def test_second_request_returns_the_open_ticket(client, app, agent_factory, open_ticket, internal_headers):
    from tests.handoff.conftest import ticket_body

    agent_factory("a1")
    first = open_ticket("citizen-1")
    again = client.post("/internal/handoff/tickets", json=ticket_body("citizen-1", "urgent"), headers=internal_headers)
    assert again.status_code == 200 and again.json()["ticket_id"] == first["ticket_id"]
    assert len(tickets(app)) == 1


def test_priority_orders_urgent_emotional_explicit_complex_then_time(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    for conversation_id, reason in [("c-complex", "complex"), ("c-explicit", "explicit"), ("c-emo-1", "emotional"),
                                    ("c-urgent", "urgent"), ("c-emo-2", "emotional")]:
        open_ticket(conversation_id, reason)
    csrf = sign_in(client, "a1")
    queue = client.get("/api/handoff/queue").json()["queued"]
    assert [t["conversation_id"] for t in queue] == ["c-urgent", "c-emo-1", "c-emo-2", "c-explicit", "c-complex"]
    assert [t["position"] for t in queue] == [1, 2, 3, 4, 5]
    assert csrf


def test_off_hours_becomes_callback_and_keeps_every_message(settings, agent_factory, internal_headers):
    from service.app import create_app
    from tests.handoff.conftest import ticket_body

    closed = settings.model_copy(update={"handoff": HandoffSettings(working_days="everyday",
                                                                     working_hours_start="00:00",
                                                                     working_hours_end="00:00")})
    app = create_app(closed)
    agent_factory("a1")
    with TestClient(app) as client:
        client.post("/api/conversations/night-1/messages", headers=as_citizen(client, "night-1"), json={"text": "转人工"})
        answer = client.post("/internal/handoff/tickets", json=ticket_body("night-1"), headers=internal_headers).json()
        assert answer["status"] == "callback" and answer["position"] is None
        assert "非工作时间" in answer["message"]
        acknowledged = []
        for text in ["我想问公积金提取的材料", "我的电话是13900001111"]:
            reply = client.post("/api/conversations/night-1/messages", headers=as_citizen(client, "night-1"), json={"text": text}).json()
            assert reply["mode"] == "waiting"
            acknowledged.append(reply["replies"][0]["text"])
        # Each message is acknowledged, never twice in the same words.
        assert "留言已记录" in acknowledged[0] and "补充" in acknowledged[1] and acknowledged[0] != acknowledged[1]
        back = client.post("/api/conversations/night-1/messages", headers=as_citizen(client, "night-1"), json={"text": "不用了"}).json()
        assert back["mode"] == "bot"
    ticket = tickets(app)[0]
    assert ticket.status == "callback"
    assert [m["text"] for m in ticket.left_messages] == ["我想问公积金提取的材料", "我的电话是13900001111"]


def test_no_agent_online_also_files_a_callback(client, open_ticket):
    answer = open_ticket("lonely-1")
    assert answer["status"] == "callback" and answer["agents_online"] == 0


def test_cancel_while_waiting_returns_to_bot_and_moves_the_queue(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    open_ticket("first")
    open_ticket("second")
    kept = client.post("/api/conversations/first/messages", headers=as_citizen(client, "first"), json={"text": "请快一点"}).json()
    assert "第 1 位" in kept["replies"][0]["text"] and kept["mode"] == "waiting"
    cancel = client.post("/api/conversations/first/messages", headers=as_citizen(client, "first"), json={"text": "不用了。"}).json()
    assert cancel["mode"] == "bot" and "已取消" in cancel["replies"][0]["text"]
    statuses = {t.conversation_id: t.status for t in tickets(app)}
    assert statuses == {"first": "cancelled", "second": "queued"}
    assert tickets(app)[0].left_messages[0]["text"] == "请快一点"
    sign_in(client, "a1")
    assert client.get("/api/handoff/queue").json()["queued"][0]["position"] == 1


def test_bot_is_silent_with_agent_and_agent_reply_reaches_citizen(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    ticket_id = open_ticket("chat-1")["ticket_id"]
    csrf = sign_in(client, "a1")
    claimed = client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers={"X-CSRF-Token": csrf})
    assert claimed.status_code == 200
    exchange = client.post("/api/conversations/chat-1/messages", headers=as_citizen(client, "chat-1"), json={"text": "你好，在吗"})
    assert exchange.status_code == 200 and exchange.json()["replies"] == [] and exchange.json()["mode"] == "agent"
    sent = client.post(f"/api/handoff/tickets/{ticket_id}/messages", json={"text": "您好，我是工作人员"},
                       headers={"X-CSRF-Token": csrf})
    assert sent.status_code == 201
    messages = transcript(client, "chat-1")
    assert [m["sender"] for m in messages[-3:]] == ["system", "citizen", "agent"]
    assert messages[-1]["sender_name"] == "坐席a1" and messages[-1]["text"] == "您好，我是工作人员"
    assert not [m for m in messages if m["sender"] == "bot" and m["seq"] > messages[-3]["seq"]]


def test_close_resumes_bot_asks_rating_and_stores_it(client, app, agent_factory, open_ticket, internal_headers):
    agent_factory("a1")
    ticket_id = open_ticket("rate-1")["ticket_id"]
    csrf = sign_in(client, "a1")
    client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers={"X-CSRF-Token": csrf})
    closed = client.post(f"/api/handoff/tickets/{ticket_id}/close", json={"disposition": "resolved", "note": "已说明"},
                         headers={"X-CSRF-Token": csrf})
    assert closed.status_code == 200 and closed.json()["ticket"]["status"] == "closed"
    messages = transcript(client, "rate-1")
    question = messages[-1]
    assert question["sender"] == "bot" and len(question["buttons"]) == 5
    assert question["buttons"][0]["payload"] == '/rate{"rating":5}'
    assert client.get("/api/conversations/rate-1/messages", headers=as_citizen(client, "rate-1")).json()["mode"] == "bot"
    stored = client.post("/internal/handoff/ratings", json={"conversation_id": "rate-1", "rating": 4,
                                                            "comment": "很耐心"}, headers=internal_headers)
    assert stored.status_code == 201 and stored.json()["ticket_id"] == ticket_id
    twice = client.post("/api/handoff/ratings", json={"conversation_id": "rate-1", "ticket_id": ticket_id, "rating": 5},
                        headers=as_citizen(client, "rate-1"))
    assert twice.status_code == 409
    with app.state.database.session() as s:
        rating = s.scalars(select(TicketRating)).one()
        assert (rating.rating, rating.comment) == (4, "很耐心")
        assert s.get(HandoffTicket, ticket_id).close_note == "已说明"


def test_close_uses_rasa_resume_messages_when_rasa_answers(client, app, agent_factory, open_ticket):
    seen: list[dict[str, Any]] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        seen.append({"path": request.url.path, "body": request.content.decode()})
        return httpx.Response(200, json={"messages": [{"text": "请为本次服务打分", "buttons": [
            {"title": "5分", "payload": '/rate{"rating":5}'}]}]})

    app.state.rasa = RasaClient("http://rasa.test", "t", 2.0, transport=httpx.MockTransport(rasa))
    agent_factory("a1")
    ticket_id = open_ticket("resume-1")["ticket_id"]
    csrf = sign_in(client, "a1")
    client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers={"X-CSRF-Token": csrf})
    client.post(f"/api/handoff/tickets/{ticket_id}/close", json={"disposition": "resolved"},
                headers={"X-CSRF-Token": csrf})
    assert seen[-1]["path"] == "/conversations/resume-1/trigger_intent" and "handoff_resumed" in seen[-1]["body"]
    last = transcript(client, "resume-1")[-1]
    assert last["sender"] == "bot" and last["text"] == "请为本次服务打分"


def test_transfer_and_return_to_bot(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    second = agent_factory("a2")
    ticket_id = open_ticket("move-1")["ticket_id"]
    csrf = sign_in(client, "a1")
    client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers={"X-CSRF-Token": csrf})
    moved = client.post(f"/api/handoff/tickets/{ticket_id}/transfer", json={"agent_id": second.id},
                        headers={"X-CSRF-Token": csrf})
    assert moved.status_code == 200 and moved.json()["ticket"]["agent_id"] == second.id
    not_mine = client.post(f"/api/handoff/tickets/{ticket_id}/messages", json={"text": "hi"},
                           headers={"X-CSRF-Token": csrf})
    assert not_mine.status_code == 403
    csrf2 = sign_in(client, "a2")
    back = client.post(f"/api/handoff/tickets/{ticket_id}/close", json={"disposition": "returned_to_bot"},
                       headers={"X-CSRF-Token": csrf2})
    assert back.status_code == 200
    assert client.get("/api/conversations/move-1/messages", headers=as_citizen(client, "move-1")).json()["mode"] == "bot"
    assert "交回智能助手" in transcript(client, "move-1")[-1]["text"]


def test_capacity_limits_claims(client, agent_factory, open_ticket):
    agent_factory("solo", max_chats=1)
    first = open_ticket("cap-1")["ticket_id"]
    second = open_ticket("cap-2")["ticket_id"]
    csrf = sign_in(client, "solo")
    assert client.post(f"/api/handoff/tickets/{first}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
    full = client.post(f"/api/handoff/tickets/{second}/claim", headers={"X-CSRF-Token": csrf})
    assert full.status_code == 409 and full.json()["error"]["code"] == "capacity_full"


def test_unclaimed_ticket_realerts(client, app, agent_factory, open_ticket):
    from datetime import timedelta

    from conversations.models import utcnow
    from handoff import flows

    agent_factory("a1")
    ticket_id = open_ticket("slow-1")["ticket_id"]
    assert flows.realert_due(app) == []
    later = utcnow() + timedelta(seconds=app.state.settings.handoff.realert_after_seconds + 1)
    assert flows.realert_due(app, now=later) == [ticket_id]
    assert tickets(app)[0].alert_count == 2


def test_waiting_citizen_gets_position_events(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    open_ticket("pos-1")
    queue = app.state.hub.subscribe("conversation:pos-1")
    open_ticket("pos-2", "urgent")
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    assert {"type": "handoff", "state": "waiting", "position": 2,
            "estimated_wait_minutes": events[-1]["estimated_wait_minutes"]} in events


def test_always_open_constant_is_valid():
    assert HandoffSettings(**ALWAYS_OPEN).working_hours_end == "24:00"


def test_messages_table_untouched_by_silence(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    ticket_id = open_ticket("quiet-1")["ticket_id"]
    csrf = sign_in(client, "a1")
    client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers={"X-CSRF-Token": csrf})
    for _ in range(3):
        client.post("/api/conversations/quiet-1/messages", headers=as_citizen(client, "quiet-1"), json={"text": "喂？"})
    with app.state.database.session() as s:
        senders = [m.sender for m in s.scalars(select(Message).where(Message.conversation_id == "quiet-1")
                                               .order_by(Message.seq))]
    assert senders[-3:] == ["citizen", "citizen", "citizen"]


def test_supervisor_board_and_console_pages(client, agent_factory, open_ticket):
    from staff.enums import StaffRole

    agent_factory("a1")
    agent_factory("boss", role=StaffRole.supervisor)
    open_ticket("board-1", "urgent")
    sign_in(client, "a1")
    page = client.get("/console")
    assert page.status_code == 200 and 'href="/console/appointments"' in page.text
    assert 'href="/console/complaints"' in page.text and "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/console/supervisor").status_code == 403
    sign_in(client, "boss")
    assert client.get("/console/supervisor").status_code == 200
    board = client.get("/api/handoff/overview").json()
    assert board["queued"][0]["reason"] == "urgent" and {a["username"] for a in board["agents"]} == {"a1", "boss"}
    assert board["ratings"] == {"count": 0, "average": None}


def test_demo_accounts_are_created_once(db_session):
    from staff.auth import verify_password

    from handoff.flows import ensure_demo_accounts

    created = ensure_demo_accounts(db_session)
    assert set(created) == {"agent1", "supervisor1", "operator1"}
    assert ensure_demo_accounts(db_session) == {}
    from handoff import service as handoff_service

    agent = handoff_service.get_agent_by_username(db_session=db_session, username="agent1")
    assert verify_password(created["agent1"], agent.password_hash)


def test_summary_names_the_service_from_the_catalogue_not_its_id(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    body_slots = {"current_service": "housing_fund_withdrawal", "mobile": "13812345678"}
    open_ticket("citizen-id", "explicit", slots=body_slots, emotion=None)
    name = app.state.faq.current().services["housing_fund_withdrawal"].name
    assert tickets(app)[0].summary.startswith(f"市民咨询{name}，")
    assert "housing_fund_withdrawal" not in tickets(app)[0].summary


def test_a_reconnecting_widget_learns_its_place_in_the_queue(client, agent_factory, internal_headers):
    from tests.channels.web.test_socket import frames_until
    from tests.channels.web.test_socket import url as socket_url
    from tests.handoff.conftest import ticket_body

    agent_factory("a1")
    for conversation_id in ("web-first", "web-second"):
        with client.websocket_connect(socket_url(client, conversation_id)) as ws:
            ws.send_json({"type": "message", "client_id": "c-1", "text": "转人工"})
            frames_until(ws, "ack")
        created = client.post("/internal/handoff/tickets", json=ticket_body(conversation_id, channel="web"),
                              headers=internal_headers)
        assert created.json()["status"] == "queued", created.text
    with client.websocket_connect(socket_url(client, "web-second")) as ws:
        ws.send_json({"type": "sync", "after": 0})
        sync = frames_until(ws, "sync")[-1]
    assert sync["mode"] == "waiting"
    assert sync["state"]["state"] == "waiting" and sync["state"]["position"] == 2
    assert sync["state"]["estimated_wait_minutes"] >= 1
    with client.websocket_connect(socket_url(client, "nobody-waits")) as ws:
        ws.send_json({"type": "sync", "after": 0})
        assert frames_until(ws, "sync")[-1]["state"] is None
