"""Every handoff entry point answers malformed, hostile and out-of-range input with a clear JSON error."""

import pytest

from tests.handoff.conftest import sign_in, ticket_body
from tests.support import as_citizen


@pytest.mark.parametrize("change, field", [
    ({"reason": "bored"}, "reason"),
    ({"conversation_id": "../../etc"}, "conversation_id"),
    ({"conversation_id": "x" * 65}, "conversation_id"),
    ({"emotion": {"label": "angry", "score": 7}}, "emotion"),
    # One spelling of the labels (handoff.vocabulary): the service's old "anger" is refused.
    ({"emotion": {"label": "anger", "score": 0.9}}, "emotion"),
    ({"emotion": {"label": "angry", "score": 0.9, "scores": {"fury": 0.9}}}, "emotion"),
    ({"turns": [{"text": "x", "emotion": "distress"}]}, "turns"),
    ({"turns": [{"text": "x", "emotion": {"label": "anger", "score": 0.9}}]}, "turns"),
    ({"turns": [{"text": "x" * 2001}]}, "turns"),
    ({"turns": [{"confidence": -1}]}, "turns"),
    ({"turns": [{}] * 201}, "turns"),
    ({"slots": {"k": "x" * 9000}}, "slots"),
    ({"channel": "fax"}, "channel"),
    ({"note": "x" * 1001}, "note"),
])
def test_ticket_request_rejects_bad_fields(client, internal_headers, change, field):
    body = {**ticket_body("ok-1"), **change}
    response = client.post("/internal/handoff/tickets", json=body, headers=internal_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in " ".join(" ".join(d["loc"]) for d in response.json()["error"]["details"])


def test_ticket_request_needs_token_and_json(client, internal_headers):
    assert client.post("/internal/handoff/tickets", json=ticket_body("ok-1")).status_code == 401
    wrong = client.post("/internal/handoff/tickets", json=ticket_body("ok-1"), headers={"Authorization": "Bearer no"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    broken = client.post("/internal/handoff/tickets", content=b"{not json", headers={
        **internal_headers, "Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "malformed_json"
    huge = client.post("/internal/handoff/tickets", content=b"x" * 70000, headers={
        **internal_headers, "Content-Type": "application/json"})
    assert huge.status_code == 413


@pytest.mark.parametrize("body, status", [
    ({"conversation_id": "c1", "rating": 0}, 422),
    ({"conversation_id": "c1", "rating": 6}, 422),
    ({"conversation_id": "c1", "rating": "five"}, 422),
    ({"conversation_id": "c1", "rating": 3, "comment": "x" * 501}, 422),
    ({"rating": 3}, 422),
    ({"conversation_id": "<script>", "rating": 3}, 422),
    ({"conversation_id": "c1", "rating": 3, "extra": 1}, 422),
    ({"conversation_id": "nobody", "rating": 3}, 404),
    ({"conversation_id": "nobody", "ticket_id": 99999, "rating": 3}, 404),
])
def test_ratings_validate(client, body, status):
    owner = as_citizen(client, "nobody")
    response = client.post("/api/handoff/ratings", json=body, headers=owner)
    assert response.status_code == status and "error" in response.json()


def test_a_rating_needs_the_conversations_token(client, agent_factory, open_ticket):
    agent_factory("a1")
    open_ticket("rated-1")
    body = {"conversation_id": "rated-1", "rating": 1}
    assert client.post("/api/handoff/ratings", json=body).status_code == 401
    stranger = client.post("/api/handoff/ratings", json=body, headers=as_citizen(client, "someone-else"))
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "conversation_not_found"


def test_open_ticket_cannot_be_rated(client, agent_factory, open_ticket, internal_headers):
    agent_factory("a1")
    ticket_id = open_ticket("open-1")["ticket_id"]
    response = client.post("/internal/handoff/ratings", json={"ticket_id": ticket_id, "rating": 5},
                           headers=internal_headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "ticket_not_closed"


def test_console_api_needs_session_and_csrf(client, agent_factory, open_ticket):
    agent_factory("a1")
    ticket_id = open_ticket("sec-1")["ticket_id"]
    assert client.get("/api/handoff/queue").status_code == 401
    assert client.post(f"/api/handoff/tickets/{ticket_id}/claim").status_code == 401
    csrf = sign_in(client, "a1")
    no_csrf = client.post(f"/api/handoff/tickets/{ticket_id}/claim")
    assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf_failed"
    wrong = client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    assert client.get("/api/handoff/overview").status_code == 403
    headers = {"X-CSRF-Token": csrf}
    assert client.post("/api/handoff/tickets/0/claim", headers=headers).status_code == 422
    assert client.post("/api/handoff/tickets/abc/claim", headers=headers).status_code == 422
    assert client.post("/api/handoff/tickets/99999/claim", headers=headers).status_code == 404
    assert client.post(f"/api/handoff/tickets/{ticket_id}/messages", json={"text": "hi"},
                       headers=headers).status_code == 409
    client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers=headers)
    again = client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "ticket_taken"
    for body in ({"text": ""}, {"text": "x" * 2001}, {"text": "   "}, {"txt": "hi"}):
        assert client.post(f"/api/handoff/tickets/{ticket_id}/messages", json=body,
                           headers=headers).status_code == 422, body
    assert client.post(f"/api/handoff/tickets/{ticket_id}/close", json={"disposition": "vanished"},
                       headers=headers).status_code == 422
    assert client.post(f"/api/handoff/tickets/{ticket_id}/transfer", json={"agent_id": 0},
                       headers=headers).status_code == 422
    assert client.post(f"/api/handoff/tickets/{ticket_id}/transfer", json={"agent_id": 4242},
                       headers=headers).status_code == 404


def test_login_rejects_bad_credentials_and_forged_forms(client, agent_factory):
    agent_factory("a1")
    page = client.get("/console/login")
    assert page.status_code == 200 and "HttpOnly" not in page.text
    forged = client.post("/console/login", data={"username": "a1", "password": "correct-horse-9",
                                                 "csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text).group(1)
    wrong = client.post("/console/login", data={"username": "a1", "password": "nope", "csrf_token": token},
                        follow_redirects=False)
    assert wrong.status_code == 401 and "不正确" in wrong.text
    long_name = client.post("/console/login", data={"username": "a" * 65, "password": "x", "csrf_token": token})
    assert long_name.status_code == 422
    csrf = sign_in(client, "a1")
    cookie = client.cookies.get("console_session")
    assert cookie
    assert client.get("/console", follow_redirects=False).status_code == 200
    assert client.post("/console/logout", data={"csrf_token": "forged"}, follow_redirects=False).status_code == 403
    assert client.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("console_session", cookie)
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_session_cookie_is_httponly(client, agent_factory):
    import re

    agent_factory("a1")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text).group(1)
    response = client.post("/console/login", data={"username": "a1", "password": "correct-horse-9",
                                                   "csrf_token": token}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "console_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_waiting_citizen_hostile_text_is_kept_verbatim(client, app, agent_factory, open_ticket):
    agent_factory("a1")
    open_ticket("evil-1")
    hostile = "<img src=x onerror=alert(1)>'; DROP TABLE handoff_ticket;--"
    reply = client.post("/api/conversations/evil-1/messages", headers=as_citizen(client, "evil-1"), json={"text": hostile})
    assert reply.status_code == 200
    from sqlalchemy import select

    from handoff.models import HandoffTicket

    with app.state.database.session() as s:
        assert s.scalars(select(HandoffTicket)).one().left_messages[0]["text"] == hostile


def test_ids_past_32_bits_are_refused_with_422_not_a_crash(client, agent_factory, open_ticket, internal_headers):
    """Found by the OpenAPI fuzz: SQLite cannot bind an integer past 64 bits, so huge ids raised OverflowError."""
    agent_factory("a1")
    ticket_id = open_ticket("big-1")["ticket_id"]
    headers = {"X-CSRF-Token": sign_in(client, "a1")}
    assert client.post(f"/api/handoff/tickets/{ticket_id}/claim", headers=headers).status_code == 200
    huge = 2**100
    for agent_id in (huge, 2**31):
        response = client.post(f"/api/handoff/tickets/{ticket_id}/transfer", json={"agent_id": agent_id},
                               headers=headers)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    rating = client.post("/internal/handoff/ratings", json={"ticket_id": huge, "rating": 5}, headers=internal_headers)
    assert rating.status_code == 422 and rating.json()["error"]["code"] == "invalid_request"
    assert client.get(f"/api/handoff/tickets/{huge}").status_code == 422
