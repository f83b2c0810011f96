"""A conversation belongs to its citizen: server-drawn ids, access tokens, one answer for unknown and forbidden."""

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from conversations import access
from conversations.enums import Channel
from conversations.models import Message
from conversations.rasa_client import RasaClient
from tests.conftest import INTEGRATION_KEY


def use_echo_rasa(app: FastAPI) -> None:
    client = RasaClient("http://rasa.test", "token", 5.0,
                        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=[{"text": "好的"}])))
    app.state.rasa = client
    app.state.router.rasa = client


def open_conversation(client: TestClient) -> tuple[str, dict[str, str]]:
    response = client.post("/api/conversations", headers={"X-API-Key": INTEGRATION_KEY})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['access_token']}"}


def test_integration_opens_a_conversation_with_a_server_drawn_id(app: FastAPI, client: TestClient) -> None:
    use_echo_rasa(app)
    first, headers = open_conversation(client)
    second, _ = open_conversation(client)
    assert first != second and first.startswith("api-") and len(first) >= 24
    posted = client.post(f"/api/conversations/{first}/messages", headers=headers, json={"text": "我的电话13812345678"})
    assert posted.status_code == 200
    transcript = client.get(f"/api/conversations/{first}/messages", headers=headers).json()["messages"]
    assert [m["sender"] for m in transcript] == ["citizen", "bot"]


@pytest.mark.parametrize("key", [None, "", "wrong-key-of-sufficient-length", INTEGRATION_KEY + "x"])
def test_opening_needs_an_integration_key(client: TestClient, key: str | None) -> None:
    headers = {} if key is None else {"X-API-Key": key}
    response = client.post("/api/conversations", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_another_citizens_token_reads_nothing_and_posts_nothing(app: FastAPI, client: TestClient) -> None:
    use_echo_rasa(app)
    mine, my_headers = open_conversation(client)
    _, other_headers = open_conversation(client)
    client.post(f"/api/conversations/{mine}/messages", headers=my_headers, json={"text": "身份证110101199003071234"})

    read = client.get(f"/api/conversations/{mine}/messages", headers=other_headers)
    posted = client.post(f"/api/conversations/{mine}/messages", headers=other_headers, json={"text": "偷看"})
    assert read.status_code == 404 and posted.status_code == 404
    assert "110101199003071234" not in read.text
    with app.state.database.session() as db_session:
        texts = list(db_session.scalars(select(Message.text).where(Message.conversation_id == mine)))
    assert "偷看" not in texts


def test_no_token_is_401_and_unknown_id_looks_like_a_wrong_token(client: TestClient) -> None:
    mine, my_headers = open_conversation(client)
    assert client.get(f"/api/conversations/{mine}/messages").status_code == 401
    assert client.get(f"/api/conversations/{mine}/messages", headers={"Authorization": "Basic abc"}).status_code == 401
    wrong = client.get(f"/api/conversations/{mine}/messages", headers={"Authorization": "Bearer v1.forged"})
    unknown = client.get("/api/conversations/api-doesnotexist000000000/messages", headers=my_headers)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_a_token_of_one_channel_does_not_open_another(app: FastAPI, client: TestClient) -> None:
    secret = app.state.settings.secret_key
    web_token = access.issue_token(secret, Channel.web, "web-abc")
    response = client.get("/api/conversations/web-abc/messages", headers={"Authorization": f"Bearer {web_token}"})
    assert response.status_code == 404
    with pytest.raises(ValueError):
        access.issue_token(secret, Channel.wechat, "wx-abc")


def test_rest_cannot_post_into_a_wechat_conversation(app: FastAPI, client: TestClient) -> None:
    from conversations import service as conversation_service

    with app.state.database.session() as db_session:
        conversation_service.get_or_create(db_session=db_session, conversation_id="wx-o123", channel=Channel.wechat)
    # Even a correctly signed REST token for that id is refused: the row belongs to WeChat.
    token = access.issue_token(app.state.settings.secret_key, Channel.api, "wx-o123")
    response = client.post("/api/conversations/wx-o123/messages", headers={"Authorization": f"Bearer {token}"},
                           json={"text": "你好"})
    assert response.status_code == 404
    with app.state.database.session() as db_session:
        assert list(db_session.scalars(select(Message).where(Message.conversation_id == "wx-o123"))) == []


def test_tokens_depend_on_the_secret_key() -> None:
    assert access.issue_token("a" * 32, Channel.api, "api-1") != access.issue_token("b" * 32, Channel.api, "api-1")
    assert access.token_matches("a" * 32, Channel.api, "api-1", access.issue_token("a" * 32, Channel.api, "api-1"))
    assert not access.token_matches("a" * 32, Channel.api, "api-1", None)


def test_lone_surrogate_is_refused_with_422_and_a_clear_code(app: FastAPI, client: TestClient) -> None:
    use_echo_rasa(app)
    conversation_id, headers = open_conversation(client)
    response = client.post(f"/api/conversations/{conversation_id}/messages",
                           content=b'{"text": "\\ud800 x"}', headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_unicode"
    # A proper surrogate pair (an emoji) is a character like any other.
    emoji = client.post(f"/api/conversations/{conversation_id}/messages",
                        content=b'{"text": "\\ud83d\\ude00 \\u4f60\\u597d"}',
                        headers={**headers, "Content-Type": "application/json"})
    assert emoji.status_code == 200 and emoji.json()["message"]["text"] == "😀 你好"


@pytest.mark.parametrize("after", ["9223372036854775808", "-1", "2147483648"])
def test_out_of_range_after_is_422(client: TestClient, after: str) -> None:
    conversation_id, headers = open_conversation(client)
    response = client.get(f"/api/conversations/{conversation_id}/messages", params={"after": after}, headers=headers)
    assert response.status_code == 422
