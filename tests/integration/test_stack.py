"""End to end through the router: a trained Rasa, the action server and the service."""

import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.support import open_live_conversation

pytestmark = pytest.mark.integration

# The access headers of each conversation the tests opened.
OWNERS: dict[str, dict[str, str]] = {}


def open_conversation(stack) -> str:
    """Opens a conversation as an integration does; remembers its owner's headers."""
    conversation_id, OWNERS[conversation_id] = open_live_conversation(stack.config.service_url,
                                                                      stack.config.integration_api_key)
    return conversation_id


def say(stack, conversation_id: str, text: str) -> dict:
    """Sends one citizen message through the router and returns the exchange."""
    response = httpx.post(f"{stack.config.service_url}/api/conversations/{conversation_id}/messages",
                          json={"text": text}, headers=OWNERS[conversation_id], timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_health_reports_everything_up(live_stack) -> None:
    body = httpx.get(f"{live_stack.config.service_url}/healthz", timeout=10).json()
    assert body["status"] == "up"
    assert {name: c["status"] for name, c in body["components"].items()} == {
        "service": "up", "database": "up", "rasa": "up", "action_server": "up"}


def test_greeting_in_chinese(live_stack) -> None:
    exchange = say(live_stack, open_conversation(live_stack), "你好")
    text = " ".join(r["text"] or "" for r in exchange["replies"])
    assert "您好" in text


def test_traditional_characters_are_understood(live_stack) -> None:
    exchange = say(live_stack, open_conversation(live_stack), "你們好")
    assert "您好" in " ".join(r["text"] or "" for r in exchange["replies"])


def test_conversation_is_kept_in_rasas_sql_tracker_store(live_stack) -> None:
    conversation_id = open_conversation(live_stack)
    say(live_stack, conversation_id, "你好")
    tracker_db = live_stack.config.var_dir / "rasa_tracker.db"
    with sqlite3.connect(tracker_db) as connection:
        count = connection.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (conversation_id,)).fetchone()[0]
    assert count > 0


def test_action_server_refuses_unsigned_webhook(live_stack) -> None:
    url = f"http://127.0.0.1:{live_stack.config.actions_port}"
    call = {"next_action": "action_answer_faq", "sender_id": "x", "tracker": {"sender_id": "x", "events": []},
            "domain": {}, "version": "3.6.2"}
    assert httpx.post(f"{url}/webhook", json=call, timeout=10).status_code == 401
    assert httpx.post(f"{url}/webhook", json=call, timeout=10,
                      headers={"Authorization": "Bearer not-the-action-server-token"}).status_code == 401
    assert httpx.get(f"{url}/actions", timeout=10).status_code == 401
    signed = httpx.get(f"{url}/actions", timeout=10,
                       headers={"Authorization": f"Bearer {live_stack.config.action_server_token}"})
    assert signed.status_code == 200 and {"name": "action_answer_faq"} in signed.json()
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200


def _process_tree(roots: list[int]) -> list[int]:
    """The given processes and all their descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        parent = int(text.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(stat.parent.name))
    tree, pending = [], list(roots)
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(parents.get(pid, []))
    return tree


def test_no_secret_on_any_command_line(live_stack) -> None:
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs Linux /proc")
    config = live_stack.config
    secrets = {"RASA_TOKEN": config.rasa_token, "INTERNAL_API_TOKEN": config.internal_token,
               "ACTION_SERVER_TOKEN": config.action_server_token, "SECRET_KEY": config.secret_key,
               "INTEGRATION_API_KEYS": config.integration_api_key}
    command_lines = {}
    for pid in _process_tree([process.pid for process in live_stack.processes.values()]):
        try:
            command_lines[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    assert len(command_lines) >= len(live_stack.processes)
    assert any("bot.rasa_server" in line for line in command_lines.values())
    assert any("bot.actions.server" in line for line in command_lines.values())
    leaks = {name: pid for name, secret in secrets.items() for pid, line in command_lines.items() if secret in line}
    assert not leaks, {name: command_lines[pid] for name, pid in leaks.items()}
