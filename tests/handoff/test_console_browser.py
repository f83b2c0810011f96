"""The console in Chromium: sign in, see the queue live, claim, read context, and citizen text stays text."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.database import Database
from tests.handoff.conftest import PASSWORD, add_agent, ticket_body
from tests.support import open_live_conversation

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
XSS = "<img src=x onerror=\"document.body.dataset.pwned='1'\"><script>document.body.dataset.pwned='2'</script>"
TOKEN = "browser-internal-token"
API_KEY = "browser-integration-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(database_url: str):
    """Runs the service under uvicorn on 127.0.0.1 with agents on duty around the clock."""
    database = Database(database_url)
    with database.session() as s:
        add_agent(s, "agent1", online=False)
    database.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "RASA_URL": "http://127.0.0.1:9",
           "INTERNAL_API_TOKEN": TOKEN, "SECRET_KEY": "browser-secret-key-0001", "PUBLIC_URL": f"http://127.0.0.1:{port}",
           "RASA_TOKEN": "browser-rasa-token-0001", "INTEGRATION_API_KEYS": f'["{API_KEY}"]',
           "ENVIRONMENT": "development",
           "HANDOFF__WORKING_DAYS": "everyday", "HANDOFF__WORKING_HOURS_START": "00:00",
           "HANDOFF__WORKING_HOURS_END": "24:00", "RASA_TIMEOUT_SECONDS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], cwd=PROJECT_ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/console/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the service did not start")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_agent_sees_citizen_xss_as_text(server: str, browser: Any):
    from playwright.sync_api import expect

    headers = {"Authorization": f"Bearer {TOKEN}"}
    context = browser.new_context()
    try:
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server}/console/login")
        page.fill("#login-username", "agent1")
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        expect(page.locator("#current-agent")).to_contain_text("agent1")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "open")

        conversation_id, citizen = open_live_conversation(server, API_KEY)
        httpx.post(f"{server}/api/conversations/{conversation_id}/messages", json={"text": XSS}, headers=citizen,
                   timeout=10)
        body = ticket_body(conversation_id, "emotional", slots={},
                           turns=[{"text": XSS, "intent": "nlu_fallback", "confidence": 0.2}])
        created = httpx.post(f"{server}/internal/handoff/tickets", json=body, headers=headers, timeout=10)
        assert created.json()["status"] == "queued", created.text
        ticket = page.locator(f'[data-testid="ticket-{created.json()["ticket_id"]}"]')
        expect(ticket).to_be_visible()
        expect(ticket.locator(".summary")).to_contain_text("<img src=x")

        ticket.click()
        page.click('[data-testid="claim"]')
        expect(page.locator('[data-testid="chat-status"]')).to_contain_text("接待中")
        expect(page.locator('[data-testid="context-summary"]')).to_contain_text("情绪激动")
        expect(page.locator("#context-turns td").first).to_have_text(XSS)

        httpx.post(f"{server}/api/conversations/{conversation_id}/messages", json={"text": XSS + " 第二句"},
                   headers=citizen, timeout=10)
        live = page.locator('#transcript li[data-sender="citizen"] .text').last
        expect(live).to_have_text(XSS + " 第二句")

        page.fill("#reply-text", "您好，我来帮您处理")
        page.click('[data-testid="send-reply"]')
        expect(page.locator('#transcript li[data-sender="agent"] .text').last).to_have_text("您好，我来帮您处理")
        transcript = httpx.get(f"{server}/api/conversations/{conversation_id}/messages", headers=citizen,
                               timeout=10).json()["messages"]
        assert transcript[-1]["sender"] == "agent"

        assert page.locator("#transcript img, #context-panel img, #queue-list img, script:not([src]):not([type])").count() == 0
        assert page.evaluate("document.body.dataset.pwned") is None
        assert dialogs == []
    finally:
        context.close()
