"""End to end through the router: a trained Rasa, the action server and the service."""

import sqlite3
import uuid

import httpx
import pytest

pytestmark = pytest.mark.integration


def say(stack, conversation_id: str, text: str) -> dict:
    """Sends one citizen message through the router and returns the exchange."""
    response = httpx.post(f"{stack.config.service_url}/api/conversations/{conversation_id}/messages",
                          json={"text": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_health_reports_everything_up(live_stack) -> None:
    body = httpx.get(f"{live_stack.config.service_url}/healthz", timeout=10).json()
    assert body["status"] == "up"
    assert {name: c["status"] for name, c in body["components"].items()} == {
        "service": "up", "database": "up", "rasa": "up", "action_server": "up"}


def test_greeting_in_chinese(live_stack) -> None:
    exchange = say(live_stack, f"it-{uuid.uuid4().hex[:8]}", "你好")
    text = " ".join(r["text"] or "" for r in exchange["replies"])
    assert "您好" in text


def test_traditional_characters_are_understood(live_stack) -> None:
    exchange = say(live_stack, f"it-{uuid.uuid4().hex[:8]}", "你們好")
    assert "您好" in " ".join(r["text"] or "" for r in exchange["replies"])


def test_conversation_is_kept_in_rasas_sql_tracker_store(live_stack) -> None:
    conversation_id = f"it-{uuid.uuid4().hex[:8]}"
    say(live_stack, conversation_id, "你好")
    tracker_db = live_stack.config.var_dir / "rasa_tracker.db"
    with sqlite3.connect(tracker_db) as connection:
        count = connection.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (conversation_id,)).fetchone()[0]
    assert count > 0
