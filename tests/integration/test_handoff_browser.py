"""The whole handoff in Chromium against the running product: citizen -> queue -> agent -> bot again."""

import re
import time
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def say(base: str, conversation_id: str, text: str) -> dict:
    """Sends a citizen message through the router."""
    response = httpx.post(f"{base}/api/conversations/{conversation_id}/messages", json={"text": text}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_citizen_reaches_an_agent_and_returns_to_the_bot(live_stack) -> None:
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: the test script installs it (scripts/system_deps.sh)")
    base = live_stack.config.service_url
    conversation_id = f"e2e-{uuid.uuid4().hex[:8]}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/console/login")
            page.fill("#login-username", "agent1")
            page.fill("#login-password", "demo-pass-123")
            page.click("#login-submit")
            expect(page.locator("#connection-state")).to_have_attribute("data-state", "open")

            say(base, conversation_id, "公积金怎么提取")
            exchange = say(base, conversation_id, "我要转人工")
            assert exchange["mode"] == "waiting"
            assert re.search(r"第\s*\d+\s*位", " ".join(r["text"] or "" for r in exchange["replies"]))

            ticket = page.locator('[data-testid^="ticket-"]').first
            expect(ticket).to_be_visible(timeout=15000)
            ticket.click()
            page.click('[data-testid="claim"]')
            expect(page.locator('[data-testid="context-summary"]')).to_contain_text("公积金")
            expect(page.locator('[data-testid="transcript"]')).to_contain_text("公积金怎么提取")

            # The bot is silent while the agent has the conversation; the agent sees the message live.
            quiet = say(base, conversation_id, "我的公积金提取被退回了")
            assert quiet["replies"] == [] and quiet["mode"] == "agent"
            expect(page.locator('#transcript li[data-sender="citizen"] .text').last).to_have_text("我的公积金提取被退回了")

            page.fill("#reply-text", "您好，我是工作人员，请问被退回的原因是什么？")
            page.click('[data-testid="send-reply"]')
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                messages = httpx.get(f"{base}/api/conversations/{conversation_id}/messages", timeout=10).json()["messages"]
                if messages[-1]["sender"] == "agent":
                    break
                time.sleep(0.3)
            assert messages[-1]["text"] == "您好，我是工作人员，请问被退回的原因是什么？"

            page.click('[data-testid="close-ticket"]')
            deadline = time.monotonic() + 20
            rating_asked = False
            while time.monotonic() < deadline and not rating_asked:
                messages = httpx.get(f"{base}/api/conversations/{conversation_id}/messages", timeout=10).json()["messages"]
                rating_asked = any("/rate" in b["payload"] for m in messages for b in m["buttons"])
                time.sleep(0.3)
            assert rating_asked, messages[-3:]
        finally:
            browser.close()

    # Back with the bot: a rating is stored and thanked, and FAQ questions are answered again.
    thanks = say(base, conversation_id, '/rate{"rating":5}')
    assert thanks["mode"] == "bot"
    assert thanks["replies"]
    answer = say(base, conversation_id, "身份证丢了怎么办")
    assert "身份证" in " ".join(r["text"] or "" for r in answer["replies"])
