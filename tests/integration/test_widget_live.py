"""The web chat widget in Chromium on the demo portal of the running product (real Rasa model and actions).

What a citizen sees: FAQ answers, quick replies, the transcript after a reload, typed markup shown as text,
the waiting state of a handoff, a keyboard-only conversation, and screenshots on desktop and phone sizes.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MESSAGE = '[data-testid="govchat-message"]'
# Generous: a loaded two-core machine runs Rasa, the action server, the service and Chromium at once.
REPLY_TIMEOUT = 30_000
UI_TIMEOUT = 15_000


@dataclass
class Citizen:
    """One citizen's browser tab on the demo portal, with the dialogs and script errors it raised."""

    page: Any
    base: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def visit(self) -> None:
        """Loads the demo portal and waits until the widget is on the page."""
        self.page.goto(self.base + "/")
        self.page.get_by_test_id("govchat-bubble").wait_for(state="visible", timeout=UI_TIMEOUT)

    def open_widget(self) -> None:
        """Loads the portal and opens the chat panel with the mouse."""
        from playwright.sync_api import expect

        self.visit()
        self.page.get_by_test_id("govchat-bubble").click()
        expect(self.page.get_by_test_id("govchat-panel")).to_be_visible(timeout=UI_TIMEOUT)

    def ask(self, text: str) -> None:
        """Types a question into the widget and sends it with Enter."""
        box = self.page.get_by_test_id("govchat-input")
        box.fill(text)
        box.press("Enter")

    def messages(self, sender: str) -> Any:
        """Locates the transcript messages of one sender."""
        return self.page.locator(f'{MESSAGE}[data-sender="{sender}"]')

    def wait_for_bot_replies(self, count: int) -> Any:
        """Waits until the bot has answered ``count`` times; returns the last answer."""
        from playwright.sync_api import expect

        expect(self.messages("bot")).to_have_count(count, timeout=REPLY_TIMEOUT)
        return self.messages("bot").nth(count - 1)

    def conversation_id(self) -> str:
        """The widget's conversation id, as kept in localStorage."""
        return str(self.page.evaluate(
            "() => JSON.parse(Object.entries(localStorage).find(([k]) => k.endsWith(':conversation'))[1])"))

    def focused(self) -> str | None:
        """The data-testid of the element focused inside the widget's shadow root."""
        return self.page.evaluate(
            "() => { const a = document.getElementById('govchat-root').shadowRoot.activeElement;"
            " return a ? a.getAttribute('data-testid') : null; }")


@pytest.fixture
def new_citizen(live_stack: Any, browser: Any) -> Iterator[Callable[..., Citizen]]:
    """Makes citizens, each in a fresh browser context (own localStorage, so own conversation)."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 800, *, phone: bool = False) -> Citizen:
        options: dict[str, Any] = {"viewport": {"width": width, "height": height}, "locale": "zh-CN",
                                   "timezone_id": "Asia/Shanghai"}
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(REPLY_TIMEOUT)
        citizen = Citizen(page=page, base=live_stack.config.service_url)
        page.on("dialog", lambda dialog: (citizen.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: citizen.errors.append(str(error)))
        return citizen

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def agent_on_duty(live_stack: Any, browser: Any) -> Iterator[Any]:
    """An agent's console open in its own context, so a handoff is queued rather than filed as a callback."""
    from playwright.sync_api import expect

    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(REPLY_TIMEOUT)
        page.goto(f"{live_stack.config.service_url}/console/login")
        page.fill("#login-username", "agent1")
        page.fill("#login-password", "demo-pass-123")
        page.click("#login-submit")
        expect(page.locator("#connection-state")).to_have_attribute("data-state", "open", timeout=REPLY_TIMEOUT)
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Folder for screenshots kept after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def test_faq_question_is_answered_in_the_widget(new_citizen: Callable[..., Citizen]) -> None:
    from playwright.sync_api import expect

    citizen = new_citizen()
    citizen.open_widget()
    expect(citizen.page.get_by_test_id("govchat-greeting")).to_be_visible()
    citizen.ask("身份证丢了怎么办")
    question = citizen.messages("citizen").first
    expect(question).to_contain_text("身份证丢了怎么办")
    answer = citizen.wait_for_bot_replies(1)
    for words in ("身份证", "挂失", "补领"):
        expect(answer).to_contain_text(words)
    # The server acknowledged the question, and the answer is rendered, not template source.
    expect(question).to_have_attribute("data-state", "sent", timeout=REPLY_TIMEOUT)
    body = answer.locator(".body").inner_text()
    assert "{" not in body and "}" not in body, body
    expect(answer.locator("time")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    replies = answer.get_by_test_id("govchat-quick-reply")
    expect(replies.first).to_be_visible()
    assert "转人工" in replies.all_inner_texts()
    assert citizen.errors == [] and citizen.dialogs == []


def test_quick_reply_click_gets_a_new_answer(new_citizen: Callable[..., Citizen]) -> None:
    from playwright.sync_api import expect

    citizen = new_citizen()
    citizen.open_widget()
    citizen.ask("公积金怎么提取")
    answer = citizen.wait_for_bot_replies(1)
    expect(answer).to_contain_text("公积金")
    online = answer.get_by_test_id("govchat-quick-reply").filter(has_text="在线办理")
    expect(online).to_be_visible()
    online.click()
    # The button's title is what the citizen sees as their message, never the intent payload.
    expect(citizen.messages("citizen")).to_have_count(2)
    chosen = citizen.messages("citizen").nth(1)
    expect(chosen.locator(".body")).to_have_text("在线办理")
    expect(chosen).to_have_attribute("data-state", "sent", timeout=REPLY_TIMEOUT)
    expect(citizen.page.get_by_test_id("govchat-log")).not_to_contain_text("/faq_choose")
    follow_up = citizen.wait_for_bot_replies(2)
    expect(follow_up).to_contain_text("在线办理")
    expect(follow_up).to_contain_text("公积金")
    link = follow_up.locator("a").first
    expect(link).to_have_attribute("href", re.compile(r"^https://"))
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(answer.locator(".quick-replies")).to_have_attribute("data-used", "true")
    assert citizen.errors == []


def test_reload_restores_the_history(new_citizen: Callable[..., Citizen]) -> None:
    from playwright.sync_api import expect

    citizen = new_citizen()
    citizen.open_widget()
    citizen.ask("身份证丢了怎么办")
    citizen.wait_for_bot_replies(1)
    expect(citizen.messages("citizen").first).to_have_attribute("data-state", "sent", timeout=REPLY_TIMEOUT)
    before = citizen.conversation_id()
    answer = citizen.messages("bot").first.locator(".body").inner_text()

    citizen.page.reload()
    citizen.page.get_by_test_id("govchat-bubble").click()
    expect(citizen.page.get_by_test_id("govchat-panel")).to_be_visible()
    # The transcript comes back from the server, in order, with the answer's quick replies.
    expect(citizen.messages("citizen")).to_have_count(1, timeout=REPLY_TIMEOUT)
    expect(citizen.messages("bot")).to_have_count(1, timeout=REPLY_TIMEOUT)
    expect(citizen.messages("citizen").first).to_contain_text("身份证丢了怎么办")
    assert citizen.messages("bot").first.locator(".body").inner_text() == answer
    senders = citizen.page.locator(MESSAGE).evaluate_all("els => els.map(e => e.dataset.sender)")
    assert senders == ["citizen", "bot"]
    expect(citizen.messages("bot").first.get_by_test_id("govchat-quick-reply").first).to_be_visible()
    assert citizen.conversation_id() == before

    # The restored conversation goes on: a new question after the reload is answered in the same chat.
    citizen.ask("公积金怎么提取")
    expect(citizen.wait_for_bot_replies(2)).to_contain_text("公积金")
    assert citizen.conversation_id() == before
    assert citizen.errors == []


def test_typed_markup_is_shown_as_text_and_never_run(new_citizen: Callable[..., Citizen]) -> None:
    from playwright.sync_api import expect

    hostile = "<img src=x onerror=alert(1)>"
    citizen = new_citizen()
    citizen.open_widget()
    citizen.ask(hostile)
    expect(citizen.messages("citizen").first.locator(".body")).to_have_text(hostile)
    # The round trip through the bot completes; the stored text comes back escaped after a reload too.
    citizen.wait_for_bot_replies(1)
    expect(citizen.messages("citizen").first).to_have_attribute("data-state", "sent", timeout=REPLY_TIMEOUT)
    citizen.page.wait_for_timeout(1000)
    assert citizen.page.locator("img").count() == 0
    citizen.page.reload()
    citizen.page.get_by_test_id("govchat-bubble").click()
    expect(citizen.messages("citizen")).to_have_count(1, timeout=REPLY_TIMEOUT)
    expect(citizen.messages("citizen").first.locator(".body")).to_have_text(hostile)
    citizen.page.wait_for_timeout(1000)
    # No element was made from the text anywhere on the page (the widget's shadow root included).
    assert citizen.page.locator("img").count() == 0
    assert citizen.dialogs == [] and citizen.errors == []


def test_handoff_shows_the_waiting_state(new_citizen: Callable[..., Citizen], agent_on_duty: Any,
                                         artifacts: Path) -> None:
    from playwright.sync_api import expect

    citizen = new_citizen()
    citizen.open_widget()
    citizen.ask("我要转人工")
    banner = citizen.page.get_by_test_id("govchat-handoff")
    expect(banner).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(banner).to_contain_text("正在为您转接人工客服")
    expect(citizen.page.locator("#govchat-root")).to_have_attribute("data-handoff", "waiting")
    # The bot may say something kind first; one of its replies announces the place in the queue.
    reply = citizen.messages("bot").filter(has_text=re.compile(r"第\s*\d+\s*位"))
    expect(reply).to_have_count(1, timeout=REPLY_TIMEOUT)
    place = re.search(r"第\s*(\d+)\s*位", reply.inner_text())
    assert place, reply.inner_text()
    # The banner's place in the queue is the one the bot announced.
    position = citizen.page.get_by_test_id("govchat-queue-position")
    expect(position).to_contain_text(re.compile(rf"第\s*{place.group(1)}\s*位"))
    expect(position).to_contain_text(re.compile(r"\d+\s*分钟"))
    stop = citizen.page.get_by_test_id("govchat-stop-waiting")
    expect(stop).to_be_visible()
    path = artifacts / "widget-live-waiting.png"
    citizen.page.screenshot(path=str(path))
    assert path.stat().st_size > 10000

    # A reload keeps the citizen in the waiting state, place in the queue included.
    citizen.page.reload()
    citizen.page.get_by_test_id("govchat-bubble").click()
    expect(banner).to_be_visible(timeout=REPLY_TIMEOUT)
    expect(banner).to_contain_text("正在为您转接人工客服")
    expect(position).to_contain_text(re.compile(rf"第\s*{place.group(1)}\s*位"), timeout=REPLY_TIMEOUT)
    expect(reply).to_have_count(1, timeout=REPLY_TIMEOUT)

    # Leaving the queue from the banner returns the citizen to the bot (and frees the queue for others).
    stop.click()
    expect(banner).to_be_hidden(timeout=REPLY_TIMEOUT)
    expect(citizen.messages("citizen").last).to_contain_text("不用了", timeout=REPLY_TIMEOUT)
    # The service answers the cancellation itself (a system note, not a bot bubble).
    cancelled = citizen.page.locator(MESSAGE).filter(has_text="已取消人工排队")
    expect(cancelled).to_have_count(1, timeout=REPLY_TIMEOUT)
    expect(citizen.page.locator("#govchat-root")).not_to_have_attribute("data-handoff", "waiting")
    answered = citizen.messages("bot").count()
    citizen.ask("公积金怎么提取")
    expect(citizen.wait_for_bot_replies(answered + 1)).to_contain_text("公积金")
    expect(banner).to_be_hidden()
    assert citizen.errors == []


def test_keyboard_alone_opens_types_and_sends(new_citizen: Callable[..., Citizen]) -> None:
    from playwright.sync_api import expect

    citizen = new_citizen()
    citizen.visit()
    keyboard = citizen.page.keyboard
    for _ in range(80):
        keyboard.press("Tab")
        if citizen.focused() == "govchat-bubble":
            break
    assert citizen.focused() == "govchat-bubble"
    keyboard.press("Enter")
    expect(citizen.page.get_by_test_id("govchat-panel")).to_be_visible()
    expect(citizen.page.get_by_test_id("govchat-bubble")).to_have_attribute("aria-expanded", "true")
    assert citizen.focused() == "govchat-input"

    # Send with Enter in the text box.
    keyboard.type("身份证丢了怎么办")
    keyboard.press("Enter")
    expect(citizen.messages("citizen").first).to_contain_text("身份证丢了怎么办")
    expect(citizen.wait_for_bot_replies(1)).to_contain_text("身份证")
    assert citizen.focused() == "govchat-input"

    # Send with the send button, reached with Tab and pressed with Enter.
    keyboard.type("公积金怎么提取")
    keyboard.press("Tab")
    assert citizen.focused() == "govchat-send"
    keyboard.press("Enter")
    expect(citizen.messages("citizen").nth(1)).to_contain_text("公积金怎么提取")
    expect(citizen.wait_for_bot_replies(2)).to_contain_text("公积金")
    expect(citizen.page.get_by_test_id("govchat-input")).to_have_value("")

    # Escape closes the panel and gives the focus back to the bubble.
    keyboard.press("Escape")
    expect(citizen.page.get_by_test_id("govchat-panel")).to_be_hidden()
    assert citizen.focused() == "govchat-bubble"
    expect(citizen.page.get_by_test_id("govchat-bubble")).to_have_attribute("aria-expanded", "false")
    assert citizen.errors == []


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 800), ("phone", 390, 844)])
def test_screenshots_of_the_open_widget(new_citizen: Callable[..., Citizen], artifacts: Path,
                                        name: str, width: int, height: int) -> None:
    from playwright.sync_api import expect

    citizen = new_citizen(width, height, phone=name == "phone")
    citizen.open_widget()
    citizen.ask("公积金怎么提取")
    answer = citizen.wait_for_bot_replies(1)
    expect(answer.get_by_test_id("govchat-quick-reply").first).to_be_visible()
    panel = citizen.page.get_by_test_id("govchat-panel").bounding_box()
    assert panel is not None
    if name == "phone":
        # Full screen on a phone.
        assert (panel["x"], panel["y"], panel["width"], panel["height"]) == (0, 0, width, height), panel
    else:
        assert panel["width"] < width / 2
        assert panel["x"] >= 0 and panel["y"] >= 0
        assert panel["x"] + panel["width"] <= width and panel["y"] + panel["height"] <= height, panel
    # The text box and the send button are on screen, not pushed out by the answer.
    for test_id in ("govchat-input", "govchat-send"):
        expect(citizen.page.get_by_test_id(test_id)).to_be_in_viewport()
    citizen.page.wait_for_timeout(300)  # let the log finish scrolling to the newest answer
    path = artifacts / f"widget-live-{name}.png"
    citizen.page.screenshot(path=str(path))
    assert path.stat().st_size > 10000
    assert citizen.errors == []
