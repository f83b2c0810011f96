"""Agents reach a transcript only through a ticket they may see: the queue, their own chats; supervisors all."""

from staff.enums import StaffRole
from tests.handoff.conftest import sign_in


def test_an_agent_cannot_read_a_colleagues_chat_but_a_supervisor_can(client, agent_factory, open_ticket):
    agent_factory("a1")
    agent_factory("a2")
    agent_factory("boss", role=StaffRole.supervisor)
    ticket_id = open_ticket("private-1")["ticket_id"]

    # While queued, every agent may read the context to decide whether to take it.
    sign_in(client, "a2")
    assert client.get(f"/api/handoff/tickets/{ticket_id}").status_code == 200

    csrf = sign_in(client, "a1")
    assert client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get(f"/api/handoff/tickets/{ticket_id}").status_code == 200

    sign_in(client, "a2")
    refused = client.get(f"/api/handoff/tickets/{ticket_id}")
    unknown = client.get("/api/handoff/tickets/999999")
    assert refused.status_code == unknown.status_code == 404
    assert "13812345678" not in refused.text and "messages" not in refused.json()

    sign_in(client, "boss")
    seen = client.get(f"/api/handoff/tickets/{ticket_id}")
    assert seen.status_code == 200 and seen.json()["messages"]
