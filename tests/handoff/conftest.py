"""Handoff fixtures: agents always on duty, console sign-in, tickets opened the way the bot opens them."""

import re
from collections.abc import Callable
from typing import Any

import bcrypt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from handoff import service as handoff_service
from handoff.settings import HandoffSettings
from handoff.vocabulary import Emotion
from service.settings import Settings
from staff.enums import StaffRole
from staff.models import StaffMember
from tests.support import as_citizen

PASSWORD = "correct-horse-9"
# Low bcrypt cost keeps dozens of test accounts fast; production uses the library default.
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
ALWAYS_OPEN = {"working_days": "everyday", "working_hours_start": "00:00", "working_hours_end": "24:00"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with agents on duty around the clock."""
    return settings.model_copy(update={"handoff": HandoffSettings(**ALWAYS_OPEN)})


def add_agent(db_session: Session, username: str, *, role: StaffRole = StaffRole.agent, max_chats: int = 3,
              online: bool = True) -> StaffMember:
    """Creates a console account (optionally online) and commits it."""
    agent = handoff_service.create_agent(db_session=db_session, username=username, display_name=f"坐席{username}",
                                         password_hash=PASSWORD_HASH, role=role, max_chats=max_chats)
    if online:
        handoff_service.set_presence(db_session=db_session, agent_id=agent.id, online=True)
    db_session.commit()
    return agent


@pytest.fixture
def agent_factory(db_session: Session) -> Callable[..., StaffMember]:
    """Creates console accounts in the test's database."""
    return lambda username, **kw: add_agent(db_session, username, **kw)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Signs in through the login form; returns the session's CSRF token."""
    client.cookies.clear()
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post("/console/login", data={"username": username, "password": password, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(client.get("/api/staff/me").json()["csrf_token"])


ANGRY, NEUTRAL = Emotion.angry.value, Emotion.neutral.value


def ticket_body(conversation_id: str, reason: str = "explicit", **extra: Any) -> dict[str, Any]:
    """A handoff request as the bot's action sends it."""
    body: dict[str, Any] = {
        "conversation_id": conversation_id, "reason": reason,
        "emotion": {"label": ANGRY, "score": 0.91, "scores": {ANGRY: 0.91, NEUTRAL: 0.09}},
        "turns": [
            {"text": "公积金怎么提取", "intent": "faq_housing_fund", "confidence": 0.42, "emotion": NEUTRAL,
             "timestamp": 1700000000.0},
            {"text": "我说的是公积金提取！！", "intent": "nlu_fallback", "confidence": 0.31, "emotion": ANGRY,
             "timestamp": 1700000010.0},
            {"text": "我的电话13812345678，身份证110101199003071234", "intent": "nlu_fallback",
             "confidence": 0.2, "emotion": ANGRY, "timestamp": 1700000020.0},
        ],
        "slots": {"current_service": "公积金提取", "mobile": "13812345678", "id_number": "110101199003071234"},
        "channel": "web", "note": None,
    }
    body.update(extra)
    return body


@pytest.fixture
def open_ticket(client: TestClient, internal_headers: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """Opens a ticket through the internal API after the citizen said something."""
    def _open(conversation_id: str, reason: str = "explicit", **extra: Any) -> dict[str, Any]:
        client.post(f"/api/conversations/{conversation_id}/messages", headers=as_citizen(client, conversation_id), json={"text": "转人工"})
        response = client.post("/internal/handoff/tickets", json=ticket_body(conversation_id, reason, **extra),
                               headers=internal_headers)
        assert response.status_code == 200, response.text
        return dict(response.json())
    return _open
