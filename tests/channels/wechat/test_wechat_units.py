"""Pure pieces of the WeChat channel: conversation ids, long-text splitting, numbered rendering."""

from datetime import UTC, datetime

from channels.wechat.customer_service import split_for_wechat
from channels.wechat.replies import render_messages
from channels.wechat.service import conversation_id_for
from conversations.enums import Sender
from conversations.models import CONVERSATION_ID_PATTERN, Button, MessageRead


def test_conversation_ids_always_fit_the_id_rules():
    assert conversation_id_for("oUpdP5abcXYZ-_09") == "wx-oUpdP5abcXYZ-_09"
    for hostile in ["o/../../etc", "o" * 200, "用户", "a b", "x\x00y"]:
        converted = conversation_id_for(hostile)
        assert CONVERSATION_ID_PATTERN.match(converted), converted
    assert conversation_id_for("o" * 200) != conversation_id_for("o" * 199)


def test_long_texts_are_split_under_wechats_byte_limit():
    pieces = split_for_wechat("第一段\n" + "长" * 3000)
    assert len(pieces) > 1
    assert all(len(piece.encode("utf-8")) <= 2048 for piece in pieces)
    assert "".join(pieces).replace("\n", "") == "第一段" + "长" * 3000


def test_buttons_are_numbered_across_messages():
    now = datetime.now(UTC)
    rendered = render_messages([
        MessageRead(seq=1, sender=Sender.bot, text="请选择：", buttons=[Button(title="甲", payload="/a")],
                    created_at=now),
        MessageRead(seq=2, sender=Sender.bot, text="或者：", buttons=[Button(title="乙", payload="/b")],
                    created_at=now),
    ])
    assert "1. 甲" in rendered.texts[0] and "2. 乙" in rendered.texts[1]
    assert [b["payload"] for b in rendered.buttons] == ["/a", "/b"]
