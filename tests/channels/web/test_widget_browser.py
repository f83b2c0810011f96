"""The widget in Chromium against the running service (a stand-in Rasa answers like the FAQ bot)."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.channels.web.conftest import ServiceProcess, StandInRasa

pytestmark = pytest.mark.browser

MESSAGE = '[data-testid="govchat-message"]'
OUTBOX_TEXTS = ("() => JSON.parse(Object.entries(localStorage).find(([k]) => k.endsWith(':outbox'))[1])"
                ".map(item => item.text)")


def open_widget(page: Any, service: ServiceProcess) -> None:
    """Loads the demo portal and opens the chat panel."""
    page.goto(service.url + "/")
    page.get_by_test_id("govchat-bubble").click()
    expect(page.get_by_test_id("govchat-panel")).to_be_visible()


def ask(page: Any, text: str) -> None:
    """Types a question and sends it with Enter."""
    box = page.get_by_test_id("govchat-input")
    box.fill(text)
    box.press("Enter")


def messages(page: Any, sender: str) -> Any:
    """Locates the transcript messages of one sender."""
    return page.locator(f'{MESSAGE}[data-sender="{sender}"]')


def conversation_id(page: Any) -> str:
    """Reads the widget's conversation id from localStorage."""
    return str(page.evaluate(
        "() => JSON.parse(Object.entries(localStorage).find(([k]) => k.endsWith(':conversation'))[1])"))


def shadow_focus(page: Any) -> str | None:
    """Returns the data-testid of the element focused inside the widget."""
    return page.evaluate(
        "() => { const a = document.getElementById('govchat-root').shadowRoot.activeElement;"
        " return a ? a.getAttribute('data-testid') : null; }")


def test_ask_get_answer_and_click_quick_reply(page: Any, web_service: ServiceProcess,
                                              stand_in_rasa: StandInRasa) -> None:
    open_widget(page, web_service)
    expect(page.get_by_test_id("govchat-greeting")).to_be_visible()
    ask(page, "护照怎么办理")
    expect(messages(page, "citizen").first).to_contain_text("护照怎么办理")
    expect(messages(page, "bot")).to_have_count(1)
    answer = messages(page, "bot").first
    expect(answer.locator("time")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    link = answer.locator("a")
    if link.count():
        assert link.first.get_attribute("rel") == "noopener noreferrer"
        assert link.first.get_attribute("href").startswith("http")
    replies = page.get_by_test_id("govchat-quick-reply")
    expect(replies.first).to_be_visible()
    title = replies.first.inner_text()
    replies.first.click()
    # The button's title is shown, its payload is what the bot receives.
    expect(messages(page, "citizen")).to_have_count(2)
    expect(messages(page, "citizen").nth(1)).to_contain_text(title)
    expect(messages(page, "bot")).to_have_count(2)
    expect(messages(page, "citizen").nth(1)).to_have_attribute("data-state", "sent")
    sent = [r for r in stand_in_rasa.received if r["sender"] == conversation_id(page)]
    assert sent[1]["message"].startswith("/")
    assert sent[0]["metadata"]["site"] == "demo-portal" and sent[0]["metadata"]["channel"] == "web"
    assert page.errors == []


def test_reload_restores_the_transcript(page: Any, web_service: ServiceProcess) -> None:
    open_widget(page, web_service)
    ask(page, "护照要多久")
    expect(messages(page, "bot")).to_have_count(1)
    before = conversation_id(page)
    page.reload()
    page.get_by_test_id("govchat-bubble").click()
    expect(messages(page, "citizen")).to_have_count(1)
    expect(messages(page, "citizen").first).to_contain_text("护照要多久")
    expect(messages(page, "bot")).to_have_count(1)
    assert conversation_id(page) == before
    # The same conversation continues in a second tab.
    other = page.context.new_page()
    other.goto(web_service.url + "/")
    other.get_by_test_id("govchat-bubble").click()
    expect(messages(other, "citizen").first).to_contain_text("护照要多久")
    other.close()


def test_markup_is_shown_as_text_and_never_run(page: Any, web_service: ServiceProcess) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    open_widget(page, web_service)
    ask(page, hostile)
    expect(messages(page, "citizen").first.locator(".body")).to_have_text(hostile)
    # The stand-in bot repeats the text back: server text is escaped too.
    expect(messages(page, "bot").first).to_contain_text(hostile)
    page.wait_for_timeout(500)
    assert page.get_by_test_id("govchat-log").locator("img").count() == 0
    assert page.dialogs == [] and page.errors == []


def test_handoff_states_and_rating(page: Any, web_service: ServiceProcess, artifacts: Path) -> None:
    open_widget(page, web_service)
    ask(page, "我要找人工")
    expect(messages(page, "bot")).to_have_count(1)
    conversation = conversation_id(page)
    assert web_service.publish(conversation, {"type": "handoff", "state": "waiting", "position": 3,
                                              "estimated_wait_minutes": 12}) >= 1
    banner = page.get_by_test_id("govchat-handoff")
    expect(banner).to_be_visible()
    expect(page.get_by_test_id("govchat-queue-position")).to_contain_text("3")
    expect(page.get_by_test_id("govchat-queue-position")).to_contain_text("12")
    expect(page.get_by_test_id("govchat-stop-waiting")).to_be_visible()
    page.screenshot(path=str(artifacts / "widget-waiting.png"))
    web_service.publish(conversation, {"type": "typing", "on": True, "by": "agent"})
    expect(page.get_by_test_id("govchat-typing")).to_be_visible()
    web_service.publish(conversation, {"type": "handoff", "state": "agent_joined", "agent_name": "李敏"})
    expect(banner).to_be_hidden()
    expect(page.get_by_test_id("govchat-agent-joined")).to_contain_text("李敏")
    web_service.publish(conversation, {"type": "handoff", "state": "agent_left", "agent_name": "李敏"})
    expect(page.get_by_test_id("govchat-agent-left")).to_contain_text("李敏")
    web_service.publish(conversation, {"type": "handoff", "state": "rating_requested", "ticket_id": 4242})
    rating = page.get_by_test_id("govchat-rating")
    expect(rating).to_be_visible()
    expect(rating.locator('input[type="radio"]')).to_have_count(5)
    rating.get_by_test_id("govchat-star").nth(3).click()
    expect(rating.locator('input[type="radio"]:checked')).to_have_value("4")
    rating.get_by_role("textbox").fill("服务很耐心")
    page.screenshot(path=str(artifacts / "widget-rating.png"))
    rating.get_by_role("button").click()
    expect(rating.locator(".hint")).not_to_be_empty()


def test_stop_waiting_sends_the_cancel_words(page: Any, web_service: ServiceProcess) -> None:
    open_widget(page, web_service)
    ask(page, "转人工")
    expect(messages(page, "bot")).to_have_count(1)
    conversation = conversation_id(page)
    web_service.publish(conversation, {"type": "handoff", "state": "waiting", "position": 1,
                                       "estimated_wait_minutes": 3})
    page.get_by_test_id("govchat-stop-waiting").click()
    expect(page.get_by_test_id("govchat-handoff")).to_be_hidden()
    expect(messages(page, "citizen")).to_have_count(2)
    assert web_service.citizen_texts(conversation) == ["转人工", "不用了"]


def test_keyboard_alone_opens_types_sends_and_closes(page: Any, web_service: ServiceProcess) -> None:
    page.goto(web_service.url + "/")
    page.get_by_test_id("govchat-bubble").wait_for()
    for _ in range(80):
        page.keyboard.press("Tab")
        if shadow_focus(page) == "govchat-bubble":
            break
    assert shadow_focus(page) == "govchat-bubble"
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("govchat-panel")).to_be_visible()
    assert shadow_focus(page) == "govchat-input"
    page.keyboard.type("护照在哪里办")
    page.keyboard.press("Enter")
    expect(messages(page, "bot")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("govchat-panel")).to_be_hidden()
    assert shadow_focus(page) == "govchat-bubble"
    expect(page.get_by_test_id("govchat-bubble")).to_have_attribute("aria-expanded", "false")


def test_accessible_names_and_live_log(page: Any, web_service: ServiceProcess) -> None:
    open_widget(page, web_service)
    log = page.get_by_test_id("govchat-log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("textbox", name="输入您的问题")).to_be_visible()
    expect(page.get_by_role("button", name="发送")).to_be_visible()
    expect(page.get_by_role("button", name="关闭在线咨询")).to_be_visible()


def test_offline_messages_are_delivered_once_after_reconnect(page: Any, own_web_service: ServiceProcess) -> None:
    open_widget(page, own_web_service)
    ask(page, "护照怎么办理")
    expect(messages(page, "bot")).to_have_count(1)
    conversation = conversation_id(page)

    own_web_service.stop()
    root = page.locator("#govchat-root")
    expect(root).to_have_attribute("data-connection", "unreachable", timeout=20000)
    expect(page.get_by_test_id("govchat-status")).to_contain_text("12345")
    ask(page, "离线消息一")
    ask(page, "离线消息二")
    expect(page.locator(f'{MESSAGE}[data-state="queued"]')).to_have_count(2)
    # The outbox lives in localStorage, so a reload or a crash keeps what was typed.
    assert page.evaluate(OUTBOX_TEXTS) == ["离线消息一", "离线消息二"]

    own_web_service.start()
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(root).to_have_attribute("data-connection", "open", timeout=20000)
    expect(page.locator(f'{MESSAGE}[data-state="sent"]')).to_have_count(3)
    expect(messages(page, "citizen")).to_have_count(3)
    assert own_web_service.citizen_texts(conversation) == ["护照怎么办理", "离线消息一", "离线消息二"]
    # Acknowledged messages leave the outbox (the ack follows the bot's replies).
    page.wait_for_function(f"() => ({OUTBOX_TEXTS})().length === 0")
    page.reload()
    page.get_by_test_id("govchat-bubble").click()
    expect(messages(page, "citizen")).to_have_count(3)
    page.wait_for_timeout(500)
    assert own_web_service.citizen_texts(conversation) == ["护照怎么办理", "离线消息一", "离线消息二"]


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 800), ("phone", 390, 844)])
def test_screenshots_of_the_open_widget(page: Any, web_service: ServiceProcess, artifacts: Path,
                                        name: str, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_widget(page, web_service)
    ask(page, "护照怎么办理")
    expect(page.get_by_test_id("govchat-quick-reply").first).to_be_visible()
    page.get_by_test_id("govchat-quick-reply").first.click()
    expect(messages(page, "bot")).to_have_count(2)
    panel = page.get_by_test_id("govchat-panel").bounding_box()
    if name == "phone":
        assert panel["width"] == width and panel["height"] == height
    else:
        assert panel["width"] < width / 2
    path = artifacts / f"widget-{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10000


def test_hostile_server_content_is_rendered_safely(page: Any, web_service: ServiceProcess) -> None:
    open_widget(page, web_service)
    ask(page, "你好")
    expect(messages(page, "bot")).to_have_count(1)
    conversation = conversation_id(page)
    hostile = {
        "seq": 900, "sender": "bot", "sender_name": "<b>bot</b>", "buttons": [], "custom": None,
        "created_at": "2026-11-21T02:05:00Z",
        "text": "[点我](javascript:alert(1)) 官网 https://zwfw.example.gov.cn/a?b=1 。\n1. 第一步\n2. 第二步",
        "image": "javascript:alert(2)",
    }
    web_service.publish(conversation, {"type": "message", "message": hostile})
    bubble = page.locator(f'{MESSAGE}[data-seq="900"]')
    expect(bubble).to_be_visible()
    links = bubble.locator("a")
    expect(links).to_have_count(1)
    assert links.first.get_attribute("href") == "https://zwfw.example.gov.cn/a?b=1"
    assert links.first.get_attribute("target") == "_blank"
    expect(bubble).to_contain_text("javascript:alert(1)")
    expect(bubble.locator("ol li")).to_have_count(2)
    expect(bubble.locator("img")).to_have_count(0)
    expect(bubble.locator("b")).to_have_count(0)
    # Shanghai time, whatever the browser's zone.
    expect(bubble.locator("time")).to_have_text("10:05")
    image = {**hostile, "seq": 901, "text": "办事大厅位置图", "image": "https://zwfw.example.gov.cn/map.png",
             "custom": {"type": "list", "title": "可选窗口", "items": [{"title": "一号窗口", "payload": "/window_1"}]}}
    web_service.publish(conversation, {"type": "message", "message": image})
    second = page.locator(f'{MESSAGE}[data-seq="901"]')
    expect(second.locator("img")).to_have_attribute("src", "https://zwfw.example.gov.cn/map.png")
    expect(second.get_by_role("button", name="一号窗口")).to_be_visible()
    zoneless = {**hostile, "seq": 902, "text": "无时区的时间", "image": None, "created_at": "2026-11-21T02:07:00"}
    web_service.publish(conversation, {"type": "message", "message": zoneless})
    expect(page.locator(f'{MESSAGE}[data-seq="902"] time')).to_have_text("10:07")
    assert page.dialogs == []


def test_agent_message_while_closed_shows_unread_count(page: Any, web_service: ServiceProcess) -> None:
    open_widget(page, web_service)
    ask(page, "你好")
    expect(messages(page, "bot")).to_have_count(1)
    page.get_by_test_id("govchat-close").click()
    agent = {"seq": 950, "sender": "agent", "sender_name": "李敏", "text": "您好，我是客服李敏。",
             "buttons": [], "created_at": "2026-11-21T02:06:00Z"}
    web_service.publish(conversation_id(page), {"type": "message", "message": agent})
    expect(page.get_by_test_id("govchat-unread")).to_have_text("1")
    expect(page.get_by_test_id("govchat-bubble")).to_have_attribute("aria-label", re.compile("1"))
    page.get_by_test_id("govchat-bubble").click()
    expect(page.get_by_test_id("govchat-unread")).to_be_hidden()
    expect(messages(page, "agent").first).to_contain_text("李敏")


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_open_widget_has_no_wcag_aa_violations(page: Any, web_service: ServiceProcess, width: int, height: int) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": width, "height": height})
    open_widget(page, web_service)
    ask(page, "护照怎么办理")
    expect(page.get_by_test_id("govchat-quick-reply").first).to_be_visible()
    web_service.publish(conversation_id(page), {"type": "handoff", "state": "waiting", "position": 2,
                                                "estimated_wait_minutes": 5})
    expect(page.get_by_test_id("govchat-handoff")).to_be_visible()
    results = Axe().run(page, context="#govchat-root",
                        options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    violations = [(v["id"], [n["target"] for n in v["nodes"]]) for v in results.response["violations"]]
    assert violations == []


def test_embedded_on_another_site_with_the_init_api(page: Any, web_service: ServiceProcess, host_site: Any,
                                                    stand_in_rasa: StandInRasa) -> None:
    page.goto(host_site.url)
    bubble = page.get_by_test_id("govchat-bubble")
    expect(bubble).to_contain_text("社保咨询")
    assert bubble.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(15, 123, 69)"
    bubble.click()
    expect(page.get_by_test_id("govchat-greeting")).to_contain_text("社保咨询")
    ask(page, "养老保险怎么交")
    expect(messages(page, "bot")).to_have_count(1)
    sent = [r for r in stand_in_rasa.received if r["sender"] == conversation_id(page)]
    assert sent[0]["metadata"]["service"] == "social_security"
    assert sent[0]["metadata"]["citizen_id"] == "citizen-42"
    assert page.errors == []


def test_a_message_whose_ack_was_lost_is_not_sent_twice(page: Any, web_service: ServiceProcess) -> None:
    open_widget(page, web_service)
    conversation = conversation_id(page)
    # The state a tab is left in when the connection drops after the server stored a message but before
    # its acknowledgement arrived: the message is still in the outbox.
    unacknowledged = ("() => { const key = Object.keys(localStorage).find(k => k.endsWith(':conversation'))"
                      ".replace(':conversation', ':outbox'); localStorage.setItem(key, JSON.stringify([{type:"
                      " 'message', client_id: 'lost-ack-1', text: '只发一次', display: '只发一次',"
                      " at: new Date().toISOString()}])); }")
    for _ in range(2):
        page.evaluate(unacknowledged)
        page.reload()
        page.get_by_test_id("govchat-bubble").click()
        page.wait_for_function(f"() => ({OUTBOX_TEXTS})().length === 0")
    expect(messages(page, "citizen")).to_have_count(1)
    expect(messages(page, "citizen").first).to_contain_text("只发一次")
    assert web_service.citizen_texts(conversation) == ["只发一次"]
