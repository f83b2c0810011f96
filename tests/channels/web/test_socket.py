"""The widget's websocket: routing through the router, acknowledgements, idempotent re-sends, bad frames."""

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from channels.web.models import WebClientMessage
from conversations import access
from conversations.enums import Channel
from conversations.models import Message
from tests.support import as_citizen

URL = "/ws/conversations/{}"


def url(client: TestClient, conversation_id: str) -> str:
    """The socket address of a widget conversation, with its access token."""
    token = access.issue_token(client.app.state.settings.secret_key, Channel.web, conversation_id)
    return URL.format(conversation_id) + f"?token={token}"


def frames_until(ws: WebSocketTestSession, kind: str, limit: int = 20) -> list[dict[str, Any]]:
    """Reads frames until one of the given type arrives; returns all read."""
    seen = []
    for _ in range(limit):
        frame = ws.receive_json()
        seen.append(frame)
        if frame["type"] == kind:
            return seen
    raise AssertionError(f"no {kind} frame in {seen}")


def citizen_texts(db_session: Session, conversation_id: str) -> list[str]:
    """Lists the citizen messages stored for a conversation."""
    return list(db_session.scalars(
        select(Message.text).where(Message.conversation_id == conversation_id, Message.sender == "citizen")
        .order_by(Message.seq)
    ))


def test_message_is_routed_echoed_and_acknowledged(client: TestClient, db_session: Session) -> None:
    with client.websocket_connect(url(client, "conv-1")) as ws:
        ws.send_json({"type": "message", "client_id": "c-1", "text": " 护照怎么办 ", "metadata": {"service": "passport"}})
        frames = frames_until(ws, "ack")
    ack = frames[-1]
    messages = [f["message"] for f in frames if f["type"] == "message"]
    assert messages[0]["sender"] == "citizen" and messages[0]["text"] == "护照怎么办"
    assert ack == {"type": "ack", "client_id": "c-1", "seq": messages[0]["seq"], "warning": "bot_unavailable"}
    # Rasa is not running in this test: the router's apology still reaches the widget.
    assert any(m["sender"] == "bot" for m in messages[1:])
    assert {"type": "typing", "on": True, "by": "bot"} in frames
    assert citizen_texts(db_session, "conv-1") == ["护照怎么办"]


def test_resent_client_id_is_processed_once(client: TestClient, db_session: Session) -> None:
    frame = {"type": "message", "client_id": "same-id", "text": "营业执照"}
    with client.websocket_connect(url(client, "conv-2")) as ws:
        ws.send_json(frame)
        first = frames_until(ws, "ack")[-1]
    # A reconnect re-sends what was not acknowledged; the server recognises it.
    with client.websocket_connect(url(client, "conv-2")) as ws:
        ws.send_json(frame)
        second = frames_until(ws, "ack")
    assert second == [{"type": "ack", "client_id": "same-id", "seq": first["seq"], "duplicate": True}]
    assert citizen_texts(db_session, "conv-2") == ["营业执照"]


def test_same_client_id_in_another_conversation_is_a_new_message(client: TestClient, db_session: Session) -> None:
    for conversation_id in ("conv-a", "conv-b"):
        with client.websocket_connect(url(client, conversation_id)) as ws:
            ws.send_json({"type": "message", "client_id": "shared", "text": "你好"})
            assert "duplicate" not in frames_until(ws, "ack")[-1]
    assert citizen_texts(db_session, "conv-a") == citizen_texts(db_session, "conv-b") == ["你好"]


@pytest.mark.parametrize(("raw", "code"), [
    ("not json", "malformed_json"),
    ("[1, 2]", "invalid_frame"),
    (json.dumps({"type": "shout", "text": "hi"}), "unknown_type"),
    (json.dumps({"text": "no type"}), "unknown_type"),
    (json.dumps({"type": "message", "client_id": "x1", "text": "   "}), "empty_text"),
    (json.dumps({"type": "message", "client_id": "x2", "text": "长" * 1001}), "text_too_long"),
    (json.dumps({"type": "message", "client_id": "x3", "text": 42}), "invalid_text"),
    (json.dumps({"type": "message", "text": "missing id"}), "invalid_client_id"),
    (json.dumps({"type": "message", "client_id": "bad id!", "text": "hi"}), "invalid_client_id"),
    (json.dumps({"type": "message", "client_id": "x4", "text": "hi", "metadata": [1]}), "invalid_metadata"),
    (json.dumps({"type": "message", "client_id": "x5", "text": "hi", "metadata": {"k": "v" * 5000}}),
     "metadata_too_large"),
    (json.dumps({"type": "message", "client_id": "x6", "text": "x" * 20000}), "frame_too_large"),
    (json.dumps({"type": "rating", "ticket_id": 1, "rating": 6}), "invalid_rating"),
    (json.dumps({"type": "rating", "ticket_id": 1, "rating": True}), "invalid_rating"),
    (json.dumps({"type": "rating", "rating": 5}), "invalid_ticket"),
    (json.dumps({"type": "rating", "ticket_id": 1, "rating": 5, "comment": "长" * 501}), "invalid_comment"),
    (json.dumps({"type": "sync", "after": -1}), "invalid_after"),
])
def test_bad_frames_get_an_error_and_the_socket_stays_usable(
    client: TestClient, db_session: Session, raw: str, code: str
) -> None:
    with client.websocket_connect(url(client, "conv-bad")) as ws:
        ws.send_text(raw)
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == code and error["message"]
        ws.send_json({"type": "message", "client_id": "after-error", "text": "还在吗"})
        assert frames_until(ws, "ack")[-1]["client_id"] == "after-error"
    assert citizen_texts(db_session, "conv-bad") == ["还在吗"]


def test_message_errors_name_the_client_id(client: TestClient) -> None:
    with client.websocket_connect(url(client, "conv-err")) as ws:
        ws.send_json({"type": "message", "client_id": "long-1", "text": "长" * 1001})
        error = ws.receive_json()
    assert error["client_id"] == "long-1" and error["frame_type"] == "message"


def test_binary_frames_are_read_as_text(client: TestClient) -> None:
    with client.websocket_connect(url(client, "conv-bin")) as ws:
        ws.send_bytes(b"\xff\xfe not json")
        assert ws.receive_json()["code"] == "malformed_json"


def test_invalid_conversation_id_is_refused(client: TestClient) -> None:
    with client.websocket_connect(url(client, "bad$id")) as ws:
        assert ws.receive_json()["code"] == "conversation_not_found"


def test_hub_events_are_forwarded(client: TestClient, app: FastAPI) -> None:
    event = {"type": "handoff", "state": "waiting", "position": 3, "estimated_wait_minutes": 12}
    with client.websocket_connect(url(client, "conv-hub")) as ws:
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        app.state.router.publish_event("conv-hub", event)
        assert ws.receive_json() == event


def test_sync_returns_recent_transcript_and_mode(client: TestClient) -> None:
    with client.websocket_connect(url(client, "conv-sync")) as ws:
        ws.send_json({"type": "sync", "after": 0})
        empty = ws.receive_json()
        ws.send_json({"type": "message", "client_id": "s1", "text": "第一句"})
        ack = frames_until(ws, "ack")[-1]
        ws.send_json({"type": "sync", "after": 0})
        full = ws.receive_json()
        ws.send_json({"type": "sync", "after": ack["seq"]})
        rest = ws.receive_json()
    assert empty == {"type": "sync", "mode": "bot", "messages": [], "more": False, "state": None}
    assert [m["text"] for m in full["messages"]][0] == "第一句" and full["mode"] == "bot"
    assert [m["seq"] for m in rest["messages"]] == [m["seq"] for m in full["messages"][1:]]


def test_stop_waiting_sends_the_cancel_words(client: TestClient, db_session: Session) -> None:
    with client.websocket_connect(url(client, "conv-stop")) as ws:
        ws.send_json({"type": "stop_waiting", "client_id": "stop-1"})
        frames_until(ws, "ack")
        ws.send_json({"type": "stop_waiting", "client_id": "stop-1"})
        assert ws.receive_json()["duplicate"] is True
    assert citizen_texts(db_session, "conv-stop") == ["不用了"]


def test_rating_is_forwarded_to_the_ratings_api(client: TestClient, app: FastAPI) -> None:
    received: list[dict[str, Any]] = []

    async def ratings(body: dict[str, Any]) -> dict[str, Any]:
        received.append(body)
        return {"ticket_id": body["ticket_id"], "rating": body["rating"]}

    # Placed ahead of the handoff domain's route to capture exactly what the socket forwards.
    app.router.add_api_route("/api/handoff/ratings", ratings, methods=["POST"], status_code=201)
    app.router.routes.insert(0, app.router.routes.pop())

    with client.websocket_connect(url(client, "conv-rate")) as ws:
        ws.send_json({"type": "rating", "ticket_id": 7, "rating": 5, "comment": " 很满意 "})
        assert ws.receive_json() == {"type": "rating_saved", "ticket_id": 7}
    assert received == [{"ticket_id": 7, "conversation_id": "conv-rate", "rating": 5, "comment": "很满意"}]


def test_rating_api_errors_reach_the_widget(client: TestClient, app: FastAPI) -> None:
    with client.websocket_connect(url(client, "conv-rate-404")) as ws:
        ws.send_json({"type": "rating", "ticket_id": 99999, "rating": 3})
        error = ws.receive_json()
    assert error["type"] == "error" and error["frame_type"] == "rating" and error["code"]


def test_too_many_frames_are_refused(client: TestClient, app: FastAPI) -> None:
    app.state.settings.web.max_frames_per_minute = 3
    with client.websocket_connect(url(client, "conv-flood")) as ws:
        for _ in range(3):
            ws.send_json({"type": "ping"})
            assert ws.receive_json() == {"type": "pong"}
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["code"] == "rate_limited"


def test_client_ids_are_pruned_per_conversation(client: TestClient, app: FastAPI, db_session: Session) -> None:
    app.state.settings.web.remembered_client_ids = 10
    with client.websocket_connect(url(client, "conv-prune")) as ws:
        for index in range(14):
            ws.send_json({"type": "message", "client_id": f"p{index}", "text": f"问题{index}"})
            frames_until(ws, "ack")
    remembered = db_session.scalar(
        select(func.count()).select_from(WebClientMessage).where(WebClientMessage.conversation_id == "conv-prune"))
    assert remembered == 10


def test_widget_script_is_served_with_texts_and_gzip(client: TestClient) -> None:
    plain = client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "javascript" in plain.headers["content-type"]
    assert "__GOVCHAT" not in plain.text and "function richText" in plain.text and "在线咨询" in plain.text and ":host" in plain.text
    zipped = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.text == plain.text
    assert client.get("/widget.js", headers={"If-None-Match": plain.headers["etag"]}).status_code == 304


def test_demo_portal_embeds_the_widget(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'src="/widget.js"' in page.text and "演示" in page.text


def test_a_failed_routing_releases_the_client_id(client: TestClient, app: FastAPI, db_session: Session,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    router = app.state.router
    real_receive = router.receive
    failures = [RuntimeError("database went away")]

    async def receive_failing_once(**kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await real_receive(**kwargs)

    monkeypatch.setattr(router, "receive", receive_failing_once)
    frame = {"type": "message", "client_id": "retry-1", "text": "社保怎么交"}
    with client.websocket_connect(url(client, "conv-fail")) as ws:
        ws.send_json(frame)
        error = ws.receive_json()
        assert error["code"] == "internal_error" and error["client_id"] == "retry-1"
        ws.send_json(frame)
        ack = frames_until(ws, "ack")[-1]
    assert "duplicate" not in ack
    assert citizen_texts(db_session, "conv-fail") == ["社保怎么交"]


def test_an_unexpected_failure_keeps_the_socket_open(client: TestClient, app: FastAPI,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from conversations import service as conversation_service

    def broken(**_kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(conversation_service, "recent_messages", broken)
    with client.websocket_connect(url(client, "conv-boom")) as ws:
        ws.send_json({"type": "message", "client_id": "boom-1", "text": "你好"})
        frames_until(ws, "ack")
        ws.send_json({"type": "sync", "after": 0})
        assert ws.receive_json()["code"] == "internal_error"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_a_claim_lost_to_another_instance_is_a_duplicate(client: TestClient, app: FastAPI, db_session: Session,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from channels.web import service as web_service

    with client.websocket_connect(url(client, "conv-race")) as ws:
        ws.send_json({"type": "message", "client_id": "race-1", "text": "公积金提取"})
        seq = frames_until(ws, "ack")[-1]["seq"]
    # Another service instance inserted the id after this one looked: the insert hits the unique key.
    real_get = web_service.get
    looks: list[str] = []

    def get_missing_first(**kwargs: Any) -> Any:
        looks.append(kwargs["client_id"])
        return None if len(looks) == 1 else real_get(**kwargs)

    monkeypatch.setattr(web_service, "get", get_missing_first)
    with client.websocket_connect(url(client, "conv-race")) as ws:
        ws.send_json({"type": "message", "client_id": "race-1", "text": "公积金提取"})
        assert ws.receive_json() == {"type": "ack", "client_id": "race-1", "seq": seq, "duplicate": True}
    assert looks == ["race-1", "race-1"]
    assert citizen_texts(db_session, "conv-race") == ["公积金提取"]


@pytest.mark.postgres
def test_postgres_concurrent_claims_of_one_client_id_admit_one(postgres_url: str) -> None:
    import threading

    from sqlalchemy.exc import IntegrityError

    from channels.web import service as web_service
    from service.database import Database

    database = Database(postgres_url)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def claim() -> None:
        barrier.wait()
        try:
            with database.session() as session:
                won = web_service.claim(db_session=session, conversation_id="pg-conv", client_id="pg-1")
            outcomes.append("claimed" if won else "seen")
        except IntegrityError:
            outcomes.append("lost_race")

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.session() as session:
        stored = session.scalar(select(func.count()).select_from(WebClientMessage))
    database.dispose()
    assert outcomes.count("claimed") == 1 and len(outcomes) == 8 and stored == 1


@pytest.mark.postgres
def test_postgres_resent_message_is_processed_once(postgres_url: str, settings: Any) -> None:
    from service.app import create_app
    from service.database import Database

    app = create_app(settings.model_copy(update={"database_url": postgres_url}))
    frame = {"type": "message", "client_id": "pg-resend", "text": "居住证怎么办"}
    with TestClient(app) as pg_client:
        for _ in range(2):
            with pg_client.websocket_connect(url(pg_client, "pg-web")) as ws:
                ws.send_json(frame)
                ack = frames_until(ws, "ack")[-1]
    database = Database(postgres_url)
    with database.session() as session:
        texts = citizen_texts(session, "pg-web")
    database.dispose()
    assert ack["duplicate"] is True and texts == ["居住证怎么办"]


def test_conversations_of_other_channels_are_not_served(client: TestClient) -> None:
    posted = client.post("/api/conversations/api-conv/messages", headers=as_citizen(client, "api-conv"), json={"text": "我的身份证号是多少"})
    assert posted.status_code in (200, 503)
    # Even a correctly signed web token for that id finds nothing: the conversation is the REST channel's.
    with client.websocket_connect(url(client, "api-conv")) as ws:
        assert ws.receive_json()["code"] == "conversation_not_found"


def test_a_new_widget_gets_its_conversation_id_and_token_from_the_server(client: TestClient) -> None:
    with client.websocket_connect("/ws/conversations") as ws:
        session = ws.receive_json()
        assert session["type"] == "session" and session["conversation_id"].startswith("web-")
        ws.send_json({"type": "message", "client_id": "m1", "text": "护照怎么办"})
        frames_until(ws, "ack")
    conversation_id, token = session["conversation_id"], session["access_token"]
    with client.websocket_connect(f"/ws/conversations/{conversation_id}?token={token}") as ws:
        ws.send_json({"type": "sync", "after": 0})
        synced = frames_until(ws, "sync")[-1]
    assert [m["text"] for m in synced["messages"] if m["sender"] == "citizen"] == ["护照怎么办"]


@pytest.mark.parametrize("query", ["", "?token=", "?token=v1.forged", "?token=" + "x" * 500])
def test_a_socket_without_the_right_token_gets_nothing(client: TestClient, query: str) -> None:
    with client.websocket_connect(url(client, "conv-owned")) as ws:
        ws.send_json({"type": "message", "client_id": "m1", "text": "我的身份证110101199003071234"})
        frames_until(ws, "ack")
    with client.websocket_connect(URL.format("conv-owned") + query) as ws:
        refused = ws.receive_json()
        assert refused == {"type": "error", "code": "conversation_not_found",
                           "message": "no conversation matches this id and access token"}
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_another_widgets_token_opens_only_its_own_conversation(client: TestClient) -> None:
    other_token = access.issue_token(client.app.state.settings.secret_key, Channel.web, "conv-other")
    with client.websocket_connect(URL.format("conv-mine") + f"?token={other_token}") as ws:
        assert ws.receive_json()["code"] == "conversation_not_found"


@pytest.mark.parametrize(("origin", "allowed"), [
    ("http://testserver", True),                  # the service's own pages (the demo portal)
    ("https://www.example.gov.cn", True),          # configured embedding site
    ("https://evil.example.com", False),
    ("null", False),
])
def test_only_configured_origins_may_open_the_widget_socket(app: FastAPI, client: TestClient,
                                                            origin: str, allowed: bool) -> None:
    app.state.settings.web.allowed_origins = ["https://www.example.gov.cn"]
    if allowed:
        with client.websocket_connect("/ws/conversations", headers={"origin": origin}) as ws:
            assert ws.receive_json()["type"] == "session"
    else:
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("/ws/conversations", headers={"origin": origin}):
                pass
        assert refused.value.code == 1008
