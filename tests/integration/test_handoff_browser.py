"""The whole handoff in Chromium against the running product: citizen -> queue -> agent -> bot again."""

import re
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support import open_live_conversation

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# The access headers of each conversation the tests opened.
OWNERS: dict[str, dict[str, str]] = {}
AGENT_REPLY = "您好，我是工作人员，请问被退回的原因是什么？"


def say(base: str, conversation_id: str, text: str) -> dict:
    """Sends a citizen message through the router."""
    response = httpx.post(f"{base}/api/conversations/{conversation_id}/messages", json={"text": text},
                          headers=OWNERS[conversation_id], timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def transcript(base: str, conversation_id: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base}/api/conversations/{conversation_id}/messages", headers=OWNERS[conversation_id],
                         timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def wait_for(check, timeout: float = 20.0) -> Any:
    """Polls until check() returns something truthy; returns it (or the last falsy value)."""
    deadline = time.monotonic() + timeout
    result = check()
    while not result and time.monotonic() < deadline:
        time.sleep(0.3)
        result = check()
    return result


def test_citizen_reaches_an_agent_and_returns_to_the_bot(live_stack, browser) -> None:
    from playwright.sync_api import expect

    base = live_stack.config.service_url
    conversation_id, OWNERS[conversation_id] = open_live_conversation(base, live_stack.config.integration_api_key)
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{base}/console/login")
        page.fill("#login-username", "agent1")
        page.fill("#login-password", "demo-pass-123")
        page.click("#login-submit")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "open")

        say(base, conversation_id, "公积金怎么提取")
        exchange = say(base, conversation_id, "我要转人工")
        assert exchange["mode"] == "waiting", exchange
        assert re.search(r"第\s*\d+\s*位", " ".join(r["text"] or "" for r in exchange["replies"])), exchange

        # The queue is live: the ticket appears without reloading the console. Other tests' citizens may be
        # waiting too (an urgent one is served first), so the agent picks this citizen's own ticket.
        engine = create_engine(live_stack.config.database_url)
        with engine.connect() as connection:
            ticket_id = connection.execute(text("SELECT id FROM handoff_ticket WHERE conversation_id = :c "
                                                "AND status = 'queued'"), {"c": conversation_id}).scalar_one()
        engine.dispose()
        ticket = page.locator(f'[data-testid="ticket-{ticket_id}"]')
        expect(ticket).to_be_visible()
        ticket.click()
        page.click('[data-testid="claim"]')
        expect(page.locator('[data-testid="chat-status"]')).to_contain_text("接待中")
        expect(page.locator('[data-testid="context-summary"]')).to_contain_text("公积金")
        expect(page.locator("#transcript")).to_contain_text("公积金怎么提取")

        # The bot is silent while the agent has the conversation; the agent sees the message live.
        quiet = say(base, conversation_id, "我的公积金提取被退回了")
        assert quiet["replies"] == [] and quiet["mode"] == "agent", quiet
        expect(page.locator('#transcript li[data-sender="citizen"] .text').last).to_have_text("我的公积金提取被退回了")

        page.fill("#reply-text", AGENT_REPLY)
        page.click('[data-testid="send-reply"]')
        last = wait_for(lambda: (m := transcript(base, conversation_id)[-1])["sender"] == "agent" and m)
        assert last and last["text"] == AGENT_REPLY

        page.select_option('[data-testid="close-disposition"]', index=0)
        page.fill("#close-note", "已说明退回原因")
        page.click('[data-testid="close-ticket"]')

        def rating_buttons() -> list[str]:
            return [b["payload"] for m in transcript(base, conversation_id) for b in m["buttons"]
                    if "/rate" in b["payload"]]

        assert wait_for(rating_buttons), transcript(base, conversation_id)[-3:]
    finally:
        context.close()

    # Back with the bot: the rating is stored and thanked, and FAQ questions are answered again.
    thanks = say(base, conversation_id, '/rate{"rating":5}')
    assert thanks["mode"] == "bot" and thanks["replies"], thanks
    engine = create_engine(live_stack.config.database_url)
    with engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT r.rating FROM handoff_rating r JOIN handoff_ticket t ON t.id = r.ticket_id "
            "WHERE t.conversation_id = :c"), {"c": conversation_id}).scalars().all()
    engine.dispose()
    assert stored == [5]
    answer = say(base, conversation_id, "身份证丢了怎么办")
    assert "身份证" in " ".join(r["text"] or "" for r in answer["replies"])
