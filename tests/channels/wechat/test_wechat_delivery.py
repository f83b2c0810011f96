"""The 5-second window, retry dedup, access_token refresh and the 48-hour window (45015)."""

import threading
import time

from sqlalchemy import select

from channels.wechat import dedup
from channels.wechat.enums import DeliveryStatus, InboundStatus
from channels.wechat.models import WeChatInbound, WeChatOutbound
from conversations.enums import Sender


def _wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_slow_bot_is_answered_through_customer_service_exactly_once(start_stack):
    stack = start_stack()
    stack.bot.delay_seconds = 6.0
    result = stack.push_text("oSlow", "我想查社保")
    # Answered `success` within the window, so WeChat did not retry.
    assert result.attempts == 1 and result.body == "success" and result.latencies[0] < 5.0
    _wait_for(lambda: len(stack.platform.messages_to("oSlow")) == 2)
    time.sleep(1.0)
    assert stack.platform.messages_to("oSlow") == ["收到：我想查社保", "还有什么可以帮您？"]
    assert len(stack.bot.received) == 1
    with stack.database.session() as db_session:
        assert db_session.scalar(select(WeChatInbound.status)) == InboundStatus.deferred


def test_retry_storm_is_processed_once(start_stack):
    stack = start_stack()
    stack.bot.delay_seconds = 1.0
    fields = stack.platform.text_fields("oStorm", "同一条消息")
    results = []
    threads = [threading.Thread(target=lambda: results.append(stack.platform.push(fields, retries=0)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stack.bot.received) == 1
    # Every copy, including those that arrived while the first was still running, got the same reply.
    assert [r.reply_text for r in results] == ["收到：同一条消息\n\n还有什么可以帮您？"] * 4
    assert dedup.retries_seen(stack.database) == 3
    # A later retry of the same MsgId repeats the stored reply without asking the bot.
    again = stack.platform.push(fields)
    assert again.reply_text == results[0].reply_text and len(stack.bot.received) == 1


def test_wechat_timeout_retry_gets_the_customer_service_path_once(start_stack):
    stack = start_stack(budget=8.0)
    stack.bot.delay_seconds = 5.5
    result = stack.push_text("oRetried", "慢慢来")
    # The simulator gave up after 5 s and retried; the retry waited for the first handling's reply.
    assert result.attempts == 2
    assert result.reply_text == "收到：慢慢来\n\n还有什么可以帮您？"
    assert len(stack.bot.received) == 1
    assert dedup.retries_seen(stack.database) == 1


def test_expired_access_token_is_refreshed_once_and_the_message_sent(start_stack):
    stack = start_stack()
    stack.push_text("oAgentChat", "转人工")
    stack.run(stack.app.state.router.record("wx-oAgentChat", Sender.agent, [{"text": "您好，我是人工客服。"}]))
    _wait_for(lambda: len(stack.platform.messages_to("oAgentChat")) == 1)
    assert stack.platform.token_requests == 1
    stack.platform.expire_access_tokens()
    stack.run(stack.app.state.router.record("wx-oAgentChat", Sender.agent, [{"text": "请问有什么可以帮您？"}]))
    _wait_for(lambda: len(stack.platform.messages_to("oAgentChat")) == 2)
    stack.platform.fail_next(42001)
    stack.run(stack.app.state.router.record("wx-oAgentChat", Sender.agent, [{"text": "第三条"}]))
    _wait_for(lambda: len(stack.platform.messages_to("oAgentChat")) == 3)
    assert stack.platform.messages_to("oAgentChat") == ["您好，我是人工客服。", "请问有什么可以帮您？", "第三条"]
    assert stack.platform.token_requests == 3


def test_messages_outside_the_48_hour_window_wait_for_the_next_message(start_stack):
    stack = start_stack()
    stack.push_text("oAway", "你好")
    stack.platform.close_window("oAway")
    stack.run(stack.app.state.router.record("wx-oAway", Sender.agent, [{"text": "您的投诉已处理。"}]))
    stack.run(stack.app.state.router.record("wx-oAway", Sender.agent, [{"text": "请留意短信通知。"}]))

    def held() -> bool:
        with stack.database.session() as db_session:
            statuses = list(db_session.scalars(select(WeChatOutbound.status)))
        return statuses == [DeliveryStatus.window_closed] * 2

    _wait_for(held)
    assert stack.platform.messages_to("oAway") == []
    assert stack.platform.refused_messages[0]["errcode"] == 45015
    # The citizen writes again: the held messages go out, in order, once.
    stack.push_text("oAway", "在吗")
    _wait_for(lambda: len(stack.platform.messages_to("oAway")) == 2)
    time.sleep(0.5)
    assert stack.platform.messages_to("oAway") == ["您的投诉已处理。", "请留意短信通知。"]
    with stack.database.session() as db_session:
        assert set(db_session.scalars(select(WeChatOutbound.status))) == {DeliveryStatus.delivered}


def test_agent_buttons_become_a_numbered_list_the_citizen_answers(start_stack):
    stack = start_stack()
    stack.push_text("oRating", "谢谢")
    stack.run(stack.app.state.router.record("wx-oRating", Sender.system, [{
        "text": "请为本次服务评分：", "buttons": [{"title": "满意", "payload": "/rate{\"score\":5}"},
                                          {"title": "不满意", "payload": "/rate{\"score\":1}"}]}]))
    _wait_for(lambda: len(stack.platform.messages_to("oRating")) == 1)
    assert "1. 满意" in stack.platform.messages_to("oRating")[0]
    stack.push_text("oRating", "1")
    assert stack.bot.received[-1]["message"] == "/rate{\"score\":5}"


def test_retries_spread_over_two_service_instances_are_processed_once(start_stack):
    first = start_stack()
    second = start_stack()
    first.bot.delay_seconds = 1.0
    fields = first.platform.text_fields("oTwoInstances", "两台服务器")
    urls = [f"{first.service_url}/wechat/callback", f"{second.service_url}/wechat/callback"] * 2
    results = []
    threads = [threading.Thread(target=lambda u=url: results.append(first.platform.push(fields, retries=0, url=u)))
               for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(first.bot.received) == 1
    assert {r.reply_text for r in results} == {"收到：两台服务器\n\n还有什么可以帮您？"}
    assert dedup.retries_seen(first.database) == 3


def test_concurrent_sends_share_one_token_fetch(start_stack):
    stack = start_stack()
    openids = [f"oCrowd{index}" for index in range(6)]
    for openid in openids:
        stack.push_text(openid, "你好")

    async def agents_write() -> None:
        import asyncio

        await asyncio.gather(*(stack.app.state.router.record(f"wx-{openid}", Sender.agent, [{"text": "人工回复"}])
                               for openid in openids))

    stack.run(agents_write())
    _wait_for(lambda: all(stack.platform.messages_to(openid) == ["人工回复"] for openid in openids))
    assert stack.platform.token_requests == 1
