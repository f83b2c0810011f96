"""The workspace in Chromium against the running product: a supervisor's canned reply, picked by an agent with
the keyboard, reaches the citizen's web widget; internal notes stay with staff; the chat goes back to the bot;
a new urgent ticket raises a notification and an alert.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.support import open_live_conversation

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "demo-pass-123"
# Generous: a loaded two-core machine runs Rasa, the action server, the service and Chromium at once.
TIMEOUT = 30_000
CANNED_TITLE = "办理进度说明"
CANNED_TEXT = "您的申请已受理，目前正在审核中，审核结果会以短信通知您，请留意 12345 开头的号码。"
NOTE = "内部：市民第三次来电，注意核实材料是否补齐"
# Records the notifications the page raises (permission granted), in place of the desktop's own.
NOTIFICATION_SPY = """(() => {
  window.__notifications = [];
  function Spy(title, options) { window.__notifications.push({ title, body: options && options.body }); }
  Spy.prototype.close = function () {};
  Spy.permission = "granted";
  Spy.requestPermission = () => Promise.resolve("granted");
  window.Notification = Spy;
})();"""


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Folder for screenshots kept after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def open_context(browser: Any) -> Iterator[Any]:
    """Makes browser contexts (one per person) and closes them after the test."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 800) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      timezone_id="Asia/Shanghai")
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, base: str, username: str) -> None:
    """Signs a demo account in through the login form."""
    page.set_default_timeout(TIMEOUT)
    page.goto(f"{base}/console/login")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r"/console$"))


def query(database_url: str, sql: str, **values: Any) -> list[Any]:
    """Reads rows from the running product's database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), values).all())
    finally:
        engine.dispose()


def test_a_canned_reply_reaches_the_citizens_widget(live_stack: Any, open_context: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    base = live_stack.config.service_url
    database_url = live_stack.config.database_url
    errors: list[str] = []

    # A supervisor adds a canned reply in the editor.
    boss = open_context().new_page()
    boss.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(boss, base, "supervisor1")
    boss.goto(f"{base}/console/canned")
    expect(boss.locator("#canned-rows tr").first).to_be_visible()
    boss.fill("#canned-title", CANNED_TITLE)
    boss.fill("#canned-category", "办理指引")
    boss.fill("#canned-text", CANNED_TEXT)
    boss.click('[data-testid="canned-save"]')
    row = boss.locator("#canned-rows tr", has_text=CANNED_TITLE)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="编辑").click()
    expect(boss.locator("#canned-title")).to_have_value(CANNED_TITLE)
    boss.screenshot(path=str(artifacts / "console-canned-supervisor.png"))

    # An agent signs in; the supervisors' editor is closed to them.
    agent = open_context().new_page()
    agent.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(agent, base, "agent1")
    refused = agent.goto(f"{base}/console/canned")
    assert refused is not None and refused.status == 403
    expect(agent.locator("#forbidden-message")).to_be_visible()
    agent.screenshot(path=str(artifacts / "console-canned-agent-forbidden.png"))
    agent.goto(f"{base}/console")
    expect(agent.locator("#connection-state")).to_have_attribute("data-state", "open")

    # A citizen asks the widget for a person.
    citizen = open_context().new_page()
    citizen.set_default_timeout(TIMEOUT)
    citizen.on("pageerror", lambda error: errors.append(str(error)))
    citizen.goto(base + "/")
    citizen.get_by_test_id("govchat-bubble").click()
    expect(citizen.get_by_test_id("govchat-panel")).to_be_visible()
    box = citizen.get_by_test_id("govchat-input")
    box.fill("我要转人工")
    box.press("Enter")
    expect(citizen.get_by_test_id("govchat-handoff")).to_be_visible()
    conversation_id = str(citizen.evaluate(
        "() => JSON.parse(Object.entries(localStorage).find(([k]) => k.endsWith(':conversation'))[1])"))
    ticket_id = query(database_url, "SELECT id FROM handoff_ticket WHERE conversation_id = :c AND status = 'queued'",
                      c=conversation_id)[0][0]

    # The agent claims it, types "/" and picks the supervisor's reply with the keyboard.
    agent.locator(f'[data-testid="ticket-{ticket_id}"]').click()
    agent.click('[data-testid="claim"]')
    expect(agent.locator('[data-testid="chat-status"]')).to_contain_text("接待中")
    expect(citizen.locator('[data-testid="govchat-message"][data-sender="system"]', has_text="已接入")).to_have_count(1)
    agent.focus("#reply-text")
    agent.keyboard.type("/")
    picker = agent.get_by_test_id("canned-list")
    expect(picker).to_be_visible()
    assert picker.locator('[role="option"]').count() > 5, "every active reply is offered before filtering"
    agent.keyboard.type("办理")
    match = picker.locator('[role="option"]', has_text=CANNED_TITLE)
    expect(match).to_have_count(1)
    for _ in range(10):
        if match.get_attribute("aria-selected") == "true":
            break
        agent.keyboard.press("ArrowDown")
    expect(match).to_have_attribute("aria-selected", "true")
    expect(agent.locator("#reply-text")).to_have_attribute("aria-activedescendant", match.get_attribute("id") or "")
    agent.screenshot(path=str(artifacts / "console-workspace-agent.png"))
    agent.keyboard.press("Enter")
    expect(picker).to_be_hidden()
    # Inserted, not sent: the text waits in the box; Ctrl+Enter sends it.
    expect(agent.locator("#reply-text")).to_have_value(CANNED_TEXT)
    agent.keyboard.press("Control+Enter")
    expect(agent.locator("#reply-text")).to_have_value("")

    # The citizen's widget shows exactly that text, from the agent; the transcript keeps it.
    from_agent = citizen.locator('[data-testid="govchat-message"][data-sender="agent"]')
    expect(from_agent.last.locator(".body")).to_have_text(CANNED_TEXT)
    stored = query(database_url, "SELECT sender, sender_name, text FROM message WHERE conversation_id = :c "
                   "AND sender = 'agent' ORDER BY seq", c=conversation_id)
    assert [(row.sender, row.text) for row in stored] == [("agent", CANNED_TEXT)]
    assert stored[0].sender_name

    # Esc closes a list opened by mistake and leaves the text as typed.
    agent.keyboard.type("/没有这样的用语")
    expect(picker).to_contain_text("没有匹配的标准化用语")
    agent.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(agent.locator("#reply-text")).to_have_value("/没有这样的用语")
    agent.fill("#reply-text", "")

    # An internal note shows in the context panel and nowhere the citizen looks.
    agent.fill("#note-text", NOTE)
    agent.click('[data-testid="note-add"]')
    expect(agent.locator("#context-notes .note-text")).to_have_text([NOTE])
    expect(agent.locator("#context-notes .note-meta")).to_contain_text("坐席")
    agent.set_viewport_size({"width": 1024, "height": 768})
    agent.screenshot(path=str(artifacts / "console-workspace-tablet.png"))
    everything = query(database_url, "SELECT text FROM message WHERE conversation_id = :c", c=conversation_id)
    assert all(NOTE not in (row.text or "") for row in everything)

    # Back to the bot: the citizen is told so, and the bot answers again.
    agent.click('[data-testid="return-to-bot"]')
    expect(agent.locator('[data-testid="chat-status"]')).to_contain_text("已结束")
    told = citizen.locator('[data-testid="govchat-message"][data-sender="system"]', has_text="交回智能助手")
    expect(told).to_have_count(1)
    expect(citizen.get_by_test_id("govchat-handoff")).to_be_hidden()
    assert query(database_url, "SELECT mode FROM conversation WHERE id = :c", c=conversation_id)[0][0] == "bot"
    expect(citizen.locator("body")).not_to_contain_text(NOTE)

    # The supervisor removes the reply again, so the product's defaults are what other tests see.
    boss.once("dialog", lambda dialog: dialog.accept())
    boss.locator("#canned-rows tr", has_text=CANNED_TITLE).get_by_role("button", name="删除").click()
    expect(boss.locator("#canned-rows tr", has_text=CANNED_TITLE)).to_have_count(0)
    assert errors == []


def test_a_new_urgent_ticket_raises_a_notification_and_an_alert(live_stack: Any, open_context: Any) -> None:
    from playwright.sync_api import expect

    base = live_stack.config.service_url
    context = open_context()
    context.add_init_script(NOTIFICATION_SPY)
    agent = context.new_page()
    sign_in(agent, base, "agent1")
    expect(agent.locator("#connection-state")).to_have_attribute("data-state", "open")
    alert = agent.get_by_test_id("urgent-alert")
    expect(alert).to_be_hidden()

    # Opened as the bot's action opens it, so the bot's own reading of the message cannot change the reason.
    conversation_id, _owner = open_live_conversation(base, live_stack.config.integration_api_key)
    body = {"conversation_id": conversation_id, "reason": "urgent", "channel": "web",
            "turns": [{"text": "我现在很危险", "intent": "nlu_fallback", "confidence": 0.3}]}
    created = httpx.post(f"{base}/internal/handoff/tickets", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {live_stack.config.internal_token}"})
    assert created.status_code == 200, created.text
    ticket_id = created.json()["ticket_id"]

    expect(alert).to_be_visible()
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text(f"#{ticket_id}")
    shown = agent.evaluate("window.__notifications")
    assert shown and shown[-1]["title"] == "紧急转人工", shown

    # From the alert straight to the ticket; it is claimed and closed so the queue is left as found.
    alert.get_by_role("button", name="查看").click()
    expect(alert).to_be_hidden()
    expect(agent.locator("#chat-title")).to_contain_text(f"#{ticket_id}")
    agent.click('[data-testid="claim"]')
    expect(agent.locator('[data-testid="chat-status"]')).to_contain_text("接待中")
    agent.select_option('[data-testid="close-disposition"]', "invalid")
    agent.click('[data-testid="close-ticket"]')
    expect(agent.locator('[data-testid="chat-status"]')).to_contain_text("已结束")
