"""The WeChat callback through the simulator: verification, round trips, events, menu, numbered buttons."""

import time

from sqlalchemy import func, select

from channels.wechat import menu
from channels.wechat.enums import EncryptionMode
from channels.wechat.models import WeChatFollower, WeChatInbound
from conversations.models import Conversation, Message


def test_server_verification_echoes_echostr(start_stack):
    stack = start_stack()
    response = stack.platform.verify_url("8842211098")
    assert response.status_code == 200
    assert response.text == "8842211098"


def test_text_round_trip_plaintext_is_a_passive_reply(start_stack):
    stack = start_stack()
    result = stack.push_text("oCitizen_0001", "居住证怎么办")
    assert result.attempts == 1
    assert result.reply is not None
    assert result.reply["ToUserName"] == "oCitizen_0001"
    assert result.reply["FromUserName"] == stack.platform.account
    # Two bot messages become one passive reply.
    assert result.reply_text == "收到：居住证怎么办\n\n还有什么可以帮您？"
    assert stack.bot.received[0]["sender"] == "wx-oCitizen_0001"
    assert stack.bot.received[0]["metadata"]["channel"] == "wechat"
    with stack.database.session() as db_session:
        conversation = db_session.get(Conversation, "wx-oCitizen_0001")
        assert conversation.channel == "wechat" and conversation.citizen_ref == "oCitizen_0001"
        texts = [m.text for m in db_session.scalars(select(Message).where(Message.conversation_id == conversation.id))]
    assert texts == ["居住证怎么办", "收到：居住证怎么办", "还有什么可以帮您？"]


def test_text_round_trip_safe_mode_is_encrypted_both_ways(start_stack):
    stack = start_stack(EncryptionMode.safe)
    result = stack.push_text("oSafeCitizen", "社保卡挂失")
    assert "<Encrypt>" in result.body and "社保卡" not in result.body
    assert result.reply_text == "收到：社保卡挂失\n\n还有什么可以帮您？"
    # A plaintext push to an account in safe mode is refused.
    plain = stack.platform.push(stack.platform.text_fields("oSafeCitizen", "明文"), encrypted=False)
    assert plain.statuses == [403]
    assert len(stack.bot.received) == 1


def test_conversation_continues_across_messages(start_stack):
    stack = start_stack()
    stack.push_text("oSameCitizen", "第一句")
    stack.push_text("oSameCitizen", "第二句")
    assert {m["sender"] for m in stack.bot.received} == {"wx-oSameCitizen"}
    with stack.database.session() as db_session:
        assert db_session.scalar(select(func.count()).select_from(Conversation)) == 1


def test_subscribe_welcomes_with_numbered_choices_and_unsubscribe_is_recorded(start_stack):
    stack = start_stack()
    welcome = stack.push_event("oNewFollower", "subscribe")
    assert "欢迎关注" in welcome.reply_text and "1. 预约办理" in welcome.reply_text
    # Answering "1" after the welcome asks the bot to book an appointment.
    booked = stack.push_text("oNewFollower", "1")
    assert stack.bot.received[-1]["message"] == "/book_appointment"
    assert booked.reply_text == "intent:book_appointment"
    gone = stack.push_event("oNewFollower", "unsubscribe", create_time=int(time.time()) + 1)
    assert gone.reply is None and gone.body == "success"
    with stack.database.session() as db_session:
        follower = db_session.get(WeChatFollower, "oNewFollower")
        assert follower.subscribed is False and follower.unsubscribed_at is not None
        events = list(db_session.scalars(select(WeChatInbound.event).where(WeChatInbound.openid == "oNewFollower")))
    assert "unsubscribe" in events


def test_menu_clicks_map_to_intents_and_common_questions(start_stack):
    stack = start_stack()
    # Events carry no MsgId: WeChat identifies them by sender and CreateTime, so each click has its own second.
    clicked_at = int(time.time())
    for offset, (key, intent) in enumerate([(menu.BOOK, "book_appointment"), (menu.COMPLAINT, "file_complaint"),
                                            (menu.HUMAN, "request_human")]):
        result = stack.push_event("oMenuUser", "CLICK", key, create_time=clicked_at + offset)
        assert result.reply_text == f"intent:{intent}"
    faq = stack.push_event("oMenuUser", "CLICK", menu.FAQ, create_time=clicked_at + 3)
    assert "1. 办理业务需要带哪些材料？" in faq.reply_text
    stack.push_text("oMenuUser", "2")
    assert stack.bot.received[-1]["message"] == "政务服务中心的办公时间是什么？"
    unknown = stack.push_event("oMenuUser", "CLICK", "NO_SUCH_KEY", create_time=clicked_at + 4)
    assert "菜单" in unknown.reply_text


def test_numbered_reply_maps_to_the_last_buttons_only(start_stack):
    stack = start_stack()
    shown = stack.push_text("oButtons", "选项")
    assert "1. 居住证" in shown.reply_text and "2. 社保卡" in shown.reply_text
    stack.push_text("oButtons", "2")
    assert stack.bot.received[-1]["message"] == "/ask_social_security_card"
    # The answer had no buttons, so a later "2" is plain text again.
    stack.push_text("oButtons", "2")
    assert stack.bot.received[-1]["message"] == "2"


def test_unsupported_types_get_a_polite_message(start_stack):
    stack = start_stack()
    platform = stack.platform
    for msg_type, extra in [("image", {"PicUrl": "http://example.invalid/a.jpg", "MediaId": "m1"}),
                            ("location", {"Location_X": "23.1", "Location_Y": "113.3", "Scale": "20", "Label": "x"}),
                            ("voice", {"MediaId": "m2", "Format": "amr"})]:
        fields = {"ToUserName": platform.account, "FromUserName": "oMedia", "CreateTime": "1700000000",
                  "MsgType": msg_type, **extra, "MsgId": platform.next_msg_id()}
        result = platform.push(fields)
        assert "暂不支持" in result.reply_text
    assert stack.bot.received == []
    # Voice with WeChat's speech recognition is handled as text.
    fields = {"ToUserName": platform.account, "FromUserName": "oMedia", "CreateTime": "1700000001",
              "MsgType": "voice", "MediaId": "m3", "Format": "amr", "Recognition": "我要预约",
              "MsgId": platform.next_msg_id()}
    assert platform.push(fields).reply_text == "收到：我要预约\n\n还有什么可以帮您？"
