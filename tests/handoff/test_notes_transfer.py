"""Internal notes on a ticket and transfers with a note: staff read them, the citizen never does."""

from typing import Any

import pytest
from sqlalchemy import select

from conversations.models import Message
from handoff import flows
from staff.enums import StaffRole
from tests.handoff.conftest import sign_in
from tests.support import as_citizen

NOTE = "市民情绪激动，已安抚；需核实公积金账户冻结原因 <b>勿外传</b>"
HANDOVER = "市民要问退休提取，我这边不熟，请帮忙继续"


def claimed(client, open_ticket, conversation_id: str, username: str) -> tuple[int, dict[str, str]]:
    """Opens a ticket and lets the agent claim it; returns its id and the agent's CSRF header."""
    ticket_id = open_ticket(conversation_id)["ticket_id"]
    csrf = {"X-CSRF-Token": sign_in(client, username)}
    assert client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers=csrf).status_code == 200
    return ticket_id, csrf


def drain(queue: Any) -> list[dict[str, Any]]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def citizen_sees(client, app, conversation_id: str) -> str:
    """Everything the citizen can read: the transcript API and the stored messages."""
    api = client.get(f"/api/conversations/{conversation_id}/messages",
                     headers=as_citizen(client, conversation_id)).json()
    with app.state.database.session() as s:
        stored = [m.text or "" for m in s.scalars(select(Message).where(Message.conversation_id == conversation_id))]
    return repr(api) + "\n".join(stored)


def test_the_agent_in_the_chat_keeps_notes_the_citizen_never_sees(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    ticket_id, csrf = claimed(client, open_ticket, "note-1", "a1")
    citizen_events = app.state.hub.subscribe("conversation:note-1")
    added = client.post(f"/api/handoff/tickets/{ticket_id}/notes", json={"text": f"  {NOTE}\n"}, headers=csrf)
    assert added.status_code == 201, added.text
    note = added.json()
    assert (note["text"], note["kind"], note["author_name"]) == (NOTE, "note", "坐席a1")
    assert note["created_at"].endswith(("+00:00", "Z"))

    shown = client.get(f"/api/handoff/tickets/{ticket_id}").json()
    assert [n["text"] for n in shown["notes"]] == [NOTE] and shown["may_note"] is True
    # Nothing reached the citizen: not in the transcript, not on the conversation's live topic.
    assert "勿外传" not in citizen_sees(client, app, "note-1")
    assert "勿外传" not in repr(drain(citizen_events))


def test_a_supervisor_may_note_any_open_ticket_and_the_agent_hears_of_it(client, app, agent_factory, open_ticket):
    agent = agent_factory("a1")
    agent_factory("boss", role=StaffRole.supervisor)
    ticket_id, _ = claimed(client, open_ticket, "note-2", "a1")
    agent_events = app.state.hub.subscribe(flows.agent_topic(agent.id))
    boss = {"X-CSRF-Token": sign_in(client, "boss")}
    assert client.post(f"/api/handoff/tickets/{ticket_id}/notes", json={"text": "请优先处理"},
                       headers=boss).status_code == 201
    assert {"type": "ticket_note", "ticket_id": ticket_id, "author": "坐席boss"} in drain(agent_events)
    queued = open_ticket("note-3")["ticket_id"]
    assert client.post(f"/api/handoff/tickets/{queued}/notes", json={"text": "回电前先查预约"},
                       headers=boss).status_code == 201
    sign_in(client, "a1")
    # Staff who may read the ticket read its notes too.
    assert [n["author_name"] for n in client.get(f"/api/handoff/tickets/{queued}").json()["notes"]] == ["坐席boss"]


def test_who_may_note_what(client, agent_factory, open_ticket):
    agent_factory("a1")
    agent_factory("a2")
    ticket_id, csrf = claimed(client, open_ticket, "note-4", "a1")
    waiting = open_ticket("note-5")["ticket_id"]
    other = {"X-CSRF-Token": sign_in(client, "a2")}
    # A colleague's chat is not even visible (as for reading it); a waiting ticket is, but has no owner yet.
    hidden = client.post(f"/api/handoff/tickets/{ticket_id}/notes", json={"text": "x"}, headers=other)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "ticket_not_found"
    unowned = client.post(f"/api/handoff/tickets/{waiting}/notes", json={"text": "x"}, headers=other)
    assert unowned.status_code == 403 and unowned.json()["error"]["code"] == "forbidden"
    assert client.get(f"/api/handoff/tickets/{waiting}").json()["may_note"] is False
    assert client.post("/api/handoff/tickets/99999/notes", json={"text": "x"}, headers=other).status_code == 404

    csrf = {"X-CSRF-Token": sign_in(client, "a1")}
    client.post(f"/api/handoff/tickets/{ticket_id}/close", json={"disposition": "resolved"}, headers=csrf)
    finished = client.post(f"/api/handoff/tickets/{ticket_id}/notes", json={"text": "补充"}, headers=csrf)
    assert finished.status_code == 409 and finished.json()["error"]["code"] == "ticket_finished"


def test_notes_need_a_session_csrf_and_valid_text(client, agent_factory, open_ticket):
    agent_factory("a1")
    ticket_id, csrf = claimed(client, open_ticket, "note-6", "a1")
    path = f"/api/handoff/tickets/{ticket_id}/notes"
    missing = client.post(path, json={"text": "x"})
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    for body in ({"text": ""}, {"text": " \n "}, {"text": "字" * 1001}, {}, {"text": "x", "public": True},
                 {"text": 5}):
        response = client.post(path, json=body, headers=csrf)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request", body
    assert client.post(path, json={"text": "字" * 1000}, headers=csrf).status_code == 201
    assert client.post("/api/handoff/tickets/0/notes", json={"text": "x"}, headers=csrf).status_code == 422
    client.cookies.clear()
    assert client.post(path, json={"text": "x"}, headers=csrf).status_code == 401


def test_a_transfer_note_reaches_the_receiving_agent_only(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    second = agent_factory("a2")
    ticket_id, csrf = claimed(client, open_ticket, "move-note-1", "a1")
    receiving = app.state.hub.subscribe(flows.agent_topic(second.id))
    citizen_events = app.state.hub.subscribe("conversation:move-note-1")
    moved = client.post(f"/api/handoff/tickets/{ticket_id}/transfer", headers=csrf,
                        json={"agent_id": second.id, "note": f" {HANDOVER} "})
    assert moved.status_code == 200 and moved.json()["ticket"]["agent_id"] == second.id
    assert {"type": "ticket_transferred", "ticket_id": ticket_id, "from_agent": "坐席a1",
            "note": HANDOVER} in drain(receiving)

    sign_in(client, "a2")
    notes = client.get(f"/api/handoff/tickets/{ticket_id}").json()["notes"]
    assert [(n["kind"], n["author_name"], n["text"]) for n in notes] == [("transfer", "坐席a1", HANDOVER)]
    # The citizen is told who took over, and nothing of what the colleagues said to each other.
    seen = citizen_sees(client, app, "move-note-1")
    assert "已为您转接工作人员 坐席a2" in seen and "退休提取" not in seen
    assert "退休提取" not in repr(drain(citizen_events))


def test_a_transfer_without_a_note_keeps_no_note(client, app, agent_factory, open_ticket):
    first = agent_factory("a1")
    second = agent_factory("a2")
    ticket_id, csrf = claimed(client, open_ticket, "move-note-2", "a1")
    to_second = app.state.hub.subscribe(flows.agent_topic(second.id))
    to_first = app.state.hub.subscribe(flows.agent_topic(first.id))
    assert client.post(f"/api/handoff/tickets/{ticket_id}/transfer", json={"agent_id": second.id, "note": None},
                       headers=csrf).status_code == 200
    csrf = {"X-CSRF-Token": sign_in(client, "a2")}
    assert client.post(f"/api/handoff/tickets/{ticket_id}/transfer", json={"agent_id": first.id, "note": "  "},
                       headers=csrf).status_code == 200
    assert drain(to_second)[-1]["note"] is None and drain(to_first)[-1]["note"] is None
    sign_in(client, "a1")
    assert client.get(f"/api/handoff/tickets/{ticket_id}").json()["notes"] == []


@pytest.mark.parametrize("body", [{"agent_id": 2, "note": "字" * 501}, {"agent_id": 2, "note": 7},
                                  {"note": "x"}, {"agent_id": 2, "note": "x", "extra": 1}])
def test_transfer_notes_are_validated(client, agent_factory, open_ticket, body):
    agent_factory("a1")
    agent_factory("a2")
    ticket_id, csrf = claimed(client, open_ticket, "move-note-3", "a1")
    response = client.post(f"/api/handoff/tickets/{ticket_id}/transfer", json=body, headers=csrf)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_a_transfer_note_at_the_limit_is_kept_whole(client, agent_factory, open_ticket):
    agent_factory("a1")
    second = agent_factory("a2")
    ticket_id, csrf = claimed(client, open_ticket, "move-note-4", "a1")
    note = "注" * 500
    assert client.post(f"/api/handoff/tickets/{ticket_id}/transfer", json={"agent_id": second.id, "note": note},
                       headers=csrf).status_code == 200
    sign_in(client, "a2")
    assert client.get(f"/api/handoff/tickets/{ticket_id}").json()["notes"][0]["text"] == note


def test_returning_to_the_bot_tells_the_citizen(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    ticket_id, csrf = claimed(client, open_ticket, "back-1", "a1")
    back = client.post(f"/api/handoff/tickets/{ticket_id}/close", json={"disposition": "returned_to_bot"},
                       headers=csrf)
    assert back.status_code == 200 and back.json()["ticket"]["disposition"] == "returned_to_bot"
    messages = client.get("/api/conversations/back-1/messages", headers=as_citizen(client, "back-1")).json()
    assert messages["mode"] == "bot"
    assert messages["messages"][-1]["sender"] == "system"
    assert messages["messages"][-1]["text"] == "工作人员已将对话交回智能助手，如仍需人工可随时输入“转人工”。"
    again = client.post(f"/api/handoff/tickets/{ticket_id}/close", json={"disposition": "returned_to_bot"},
                        headers=csrf)
    assert again.status_code == 409
