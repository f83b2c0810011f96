"""The conversation router: storage order, replies, bad input, and Rasa being down."""

import json

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conversations.rasa_client import RasaClient
from tests.support import as_citizen


def use_rasa(app: FastAPI, handler: httpx.MockTransport) -> None:
    """Points the app's router at a Rasa webhook answered by ``handler``."""
    client = RasaClient("http://rasa.test", "token", 5.0, transport=handler)
    app.state.rasa = client
    app.state.router.rasa = client


def echo_rasa(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(200, json=[
        {"recipient_id": body["sender"], "text": f"收到：{body['message']}"},
        {"recipient_id": body["sender"], "text": "还需要什么？", "buttons": [{"title": "预约办理", "payload": "/book_appointment"}]},
    ])


def test_message_and_replies_are_stored_in_order(app: FastAPI, client: TestClient) -> None:
    use_rasa(app, httpx.MockTransport(echo_rasa))
    response = client.post("/api/conversations/c-1/messages", headers=as_citizen(client, "c-1"), json={"text": "  你好  "})
    assert response.status_code == 200
    exchange = response.json()
    assert exchange["message"]["text"] == "你好"
    assert [r["text"] for r in exchange["replies"]] == ["收到：你好", "还需要什么？"]
    assert exchange["replies"][1]["buttons"] == [{"title": "预约办理", "payload": "/book_appointment"}]

    transcript = client.get("/api/conversations/c-1/messages", headers=as_citizen(client, "c-1")).json()
    assert [(m["seq"], m["sender"]) for m in transcript["messages"]] == [(1, "citizen"), (2, "bot"), (3, "bot")]
    later = client.get("/api/conversations/c-1/messages", headers=as_citizen(client, "c-1"), params={"after": 2}).json()
    assert [m["seq"] for m in later["messages"]] == [3]


def test_metadata_reaches_rasa(app: FastAPI, client: TestClient) -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=[{"text": "好的"}])

    use_rasa(app, httpx.MockTransport(handler))
    client.post("/api/conversations/c-2/messages", headers=as_citizen(client, "c-2"), json={"text": "办护照", "metadata": {"page_service": "passport"}})
    assert seen[0]["metadata"] == {"page_service": "passport", "channel": "api"}
    assert seen[0]["sender"] == "c-2"


def test_rasa_down_keeps_the_message_and_apologises(client: TestClient) -> None:
    response = client.post("/api/conversations/c-3/messages", headers=as_citizen(client, "c-3"), json={"text": "社保卡怎么办"})
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "bot_unavailable"
    assert "系统繁忙" in body["replies"][0]["text"]
    transcript = client.get("/api/conversations/c-3/messages", headers=as_citizen(client, "c-3")).json()["messages"]
    assert transcript[0]["text"] == "社保卡怎么办"
    assert transcript[0]["sender"] == "citizen"


def test_rasa_error_status_is_treated_as_down(app: FastAPI, client: TestClient) -> None:
    use_rasa(app, httpx.MockTransport(lambda request: httpx.Response(500, text="boom")))
    response = client.post("/api/conversations/c-4/messages", headers=as_citizen(client, "c-4"), json={"text": "你好"})
    assert response.status_code == 503
    assert client.get("/api/conversations/c-4/messages", headers=as_citizen(client, "c-4")).json()["messages"][0]["text"] == "你好"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": ""}, "empty_text"),
        ({"text": "   \n\t "}, "empty_text"),
        ({"text": "好" * 1001}, "text_too_long"),
        ({"text": 123}, "invalid_request"),
        ({}, "invalid_request"),
        ({"text": "你好", "unexpected": 1}, "invalid_request"),
        ({"text": "你好", "metadata": {"blob": "x" * 5000}}, "invalid_request"),
    ],
)
def test_bad_message_bodies_are_refused(client: TestClient, body: dict, code: str) -> None:
    response = client.post("/api/conversations/c-5/messages", headers=as_citizen(client, "c-5"), json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert client.get("/api/conversations/c-5/messages", headers=as_citizen(client, "c-5")).json()["messages"] == []


def test_malformed_json_is_refused(client: TestClient) -> None:
    response = client.post("/api/conversations/c-6/messages", content=b'{"text": "hi"',
                           headers={**as_citizen(client, "c-6"), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed_json"


def test_oversized_body_is_refused_before_parsing(client: TestClient) -> None:
    response = client.post("/api/conversations/c-7/messages", content=b'{"text": "' + b"a" * 70000 + b'"}',
                           headers={**as_citizen(client, "c-7"), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("conversation_id", ["a%20b", "%3Cscript%3E", "x" * 65, "a.b", "..%2F..%2Fetc"])
def test_conversation_ids_with_bad_characters_are_refused(client: TestClient, conversation_id: str) -> None:
    response = client.post(f"/api/conversations/{conversation_id}/messages", headers={"Authorization": "Bearer v1.x"},
                           json={"text": "你好"})
    assert response.status_code in (404, 422)
    assert "error" in response.json()


def test_health_reports_each_component(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["service"]["status"] == "up"
    assert components["database"]["status"] == "up"
    assert components["rasa"]["status"] == "down"
    assert components["action_server"]["status"] == "down"
