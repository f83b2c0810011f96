"""The word cues that check DIET's intent: sentences as citizens type them, with the intent DIET gave.

The rankings are the ones the trained model gave these messages before the cues existed
(对了 -> stop at a read-back, 在几楼办啊 -> greet, 可以 提交 -> faq).
"""

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.components.intent_cues import IntentCueChecker, IntentCues
from bot.components.normalization import normalize_text

CUES = IntentCues.from_file(Path(__file__).resolve().parents[2] / "bot" / "cues" / "intent_cues.yml")


def corrected(text: str, ranking: list[tuple[str, float]], entities: list[str] = ()) -> str:
    """The intent after the cue check."""
    checker = IntentCueChecker({}, None, None, CUES)  # type: ignore[arg-type]
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    message = Message(data={"text": text, "intent": intents[0], "intent_ranking": intents,
                            "entities": [{"entity": e.partition("=")[0], "value": e.partition("=")[2] or "x"}
                                         for e in entities]})
    checker.process([message])
    return message.get("intent")["name"]


# (message, DIET's ranking, entities found, intent after the check)
TABLE = [
    # A plain yes at a read-back, whatever DIET made of it.
    ("对了", [("stop", 0.7), ("goodbye", 0.14)], [], "affirm"),
    ("这回对了", [("stop", 0.81), ("goodbye", 0.1)], [], "affirm"),
    ("可以 提交", [("faq", 1.0), ("affirm", 0.0)], [], "affirm"),
    ("对对对，就这样", [("faq", 0.9)], [], "affirm"),
    ("嗯嗯", [("stop", 0.6)], [], "affirm"),
    ("OK", [("inform", 0.9)], [], "affirm"),
    ("没问题", [("affirm", 1.0)], [], "affirm"),
    # A negation is no yes.
    ("不对，改成下午", [("affirm", 0.6), ("deny", 0.3)], [], "affirm"),
    ("不对", [("deny", 0.9)], [], "deny"),
    # A short message that only stops.
    ("先不提交了，我再想想", [("faq", 1.0), ("stop", 0.0)], [], "stop"),
    ("算了", [("stop", 0.95)], [], "stop"),
    ("不用了谢谢", [("goodbye", 0.8)], [], "goodbye"),
    # A request to book with a day or a time.
    ("身分证快到期了 想换个新的 后天下午两点半有号么", [("inform", 0.61), ("reschedule_booking", 0.31)], [],
     "book_appointment"),
    ("身分证到期了想约个时间换", [("stop", 0.82), ("goodbye", 0.06)], [], "book_appointment"),
    ("能不能帮我约个明天下午两点去办退休手续", [("faq", 0.9)], ["service"], "book_appointment"),
    ("12月1日上午10点 公积金贷款 帮我约", [("inform", 0.91), ("book_appointment", 0.07)], ["service"],
     "book_appointment"),
    ("明天下午三点半 办户口迁入落户 符晓东 15697302846", [("nlu_fallback", 0.45), ("book_appointment", 0.51)],
     ["mobile", "service"], "book_appointment"),
    ("驾照到期了要换证，后天早上去行不行", [("faq", 0.9)], ["service"], "book_appointment"),
    # Asking whether a named service can be booked starts booking it (the form says when it cannot).
    ("低保申请能预约吗", [("faq", 1.0)], ["service"], "book_appointment"),
    ("娃刚满月 想给他上个户口 能约吗", [("faq", 1.0), ("book_appointment", 0.0)], ["service"], "book_appointment"),
    ("为什么不能约社保卡", [("faq", 1.0)], ["service"], "faq"),
    # The centre itself is no service to book: how its booking works is a question.
    ("能不能网上先预约再过去", [("faq", 1.0)], ["service=service_center"], "faq"),
    ("帮我订个下礼拜去三亚的酒店 要海景房", [("book_appointment", 0.9)], [], "out_of_scope"),
    ("QJWNNB 手机后四位0945 那天有事去不了了 帮我取消掉", [("reschedule_booking", 0.8)], ["booking_code"],
     "cancel_booking"),
    # A fault of the centre told as a story is a complaint; asking about one is a question.
    ("二楼女卫生间地上全是水 好像哪里漏了 刚才有个老太太差点滑倒 你们也不放个牌子", [("faq", 0.99)], [],
     "file_complaint"),
    ("一楼大厅那个自助取号机把我身份证吞进去了 半天不吐出来 喊人也没人来", [("faq", 1.0)], ["service"],
     "file_complaint"),
    ("取号机坏了怎么办", [("faq", 0.9)], [], "faq"),
    ("昨天上午八点半就来了 在三楼公积金那排到十一点多 好不容易轮到我 窗口的说系统要维护让我下午再来 这叫什么事啊",
     [("faq", 0.9)], ["service"], "file_complaint"),
    ("我在外地工作 社保在老家交了三年 现在想转过来 工作人员说要先开证明 需要什么材料", [("faq", 0.9)], ["service"], "faq"),
    # Demanding redress is a complaint, not a stop; asking where is no booking lookup.
    ("我不想再填第二遍了 你们得给我个说法", [("stop", 0.8), ("file_complaint", 0.1)], [], "file_complaint"),
    ("在哪个窗口", [("check_booking", 0.48), ("stop", 0.1), ("faq", 0.09)], [], "faq"),
    ("我约的是几点来着", [("check_booking", 0.9)], [], "check_booking"),
    ("对，给我找个人", [("affirm", 0.92)], [], "request_human"),
    ("太绕了 打字费劲 你给我转个人工吧", [("nlu_fallback", 0.45), ("request_human", 0.19)], [], "request_human"),
    ("不用转人工 直接帮我约明天上午办护照", [("request_human", 0.6), ("book_appointment", 0.3)], ["service"],
     "book_appointment"),
    ("我一个一个问太乱了 能不能直接安排个工作人员跟我对接", [("faq", 0.9)], ["service"], "request_human"),
    ("17756230948 办港澳通行证续签注", [("faq", 1.0)], ["mobile", "service"], "book_appointment"),
    ("今天上午，电话13730000007", [("inform", 0.9)], ["mobile"], "inform"),
    # An operation on a record names the record or what it does to it.
    ("问一下 买卖双方都得到场吗", [("check_complaint", 0.5), ("file_complaint", 0.14)], [], "faq"),
    ("我上周的投诉处理得怎么样了", [("check_complaint", 0.9)], [], "check_complaint"),
    ("明天的预约不去了", [("cancel_booking", 0.9)], [], "cancel_booking"),
    ("那帮我改到同一天下午三点 上午有事", [("book_appointment", 0.8)], [], "reschedule_booking"),
    ("帮我约明天上午，改到下午也行", [("book_appointment", 0.9)], [], "book_appointment"),
    ("能不能改个时间", [("reschedule_booking", 0.8)], [], "reschedule_booking"),
    ("卫生间在几楼", [("faq", 1.0)], [], "faq"),
    # Not a new booking: how booking works, a booking already made, a complaint.
    ("社保卡怎么预约", [("faq", 1.0)], ["service"], "faq"),
    ("我的预约码是AB59FU，手机尾号5678，帮我查一下", [("check_booking", 0.9)], ["booking_code"], "check_booking"),
    ("帮我把明天的预约改到下周一", [("reschedule_booking", 0.8)], [], "reschedule_booking"),
    ("今天下午在社保窗口排了两个小时队", [("inform", 0.6)], ["service"], "inform"),
    # An identifier with words around it that say what to do.
    ("预约码K829GZ 尾号6631 明天去不了了 改到下周二下午三点行不", [("faq", 0.8)], ["booking_code"],
     "reschedule_booking"),
    ("把K829GZ取消掉，尾号6631", [("inform", 0.9)], ["booking_code"], "cancel_booking"),
    ("单号TS20261201-0005，尾号3350，补充一下，那个人的工牌是0427号", [("nlu_fallback", 0.4)], ["ticket_number"],
     "add_complaint_info"),
    ("TS20261201-0005 处理得怎么样了", [("inform", 0.9)], ["ticket_number"], "check_complaint"),
    # Naming a new complaint.
    ("我要投述！问公租房申请要啥材料，窗口没一次性告知，害我回去补了三回材料", [("faq", 1.0)], ["service"],
     "file_complaint"),
    ("举报一下，有人在大厅门口收钱帮插队", [("out_of_scope", 0.6)], [], "file_complaint"),
    ("怎么投诉", [("faq", 0.9)], [], "faq"),
    ("我的投诉进度怎么样了", [("check_complaint", 0.9)], [], "check_complaint"),
    # Closed-class intents need their words.
    ("在几楼办啊", [("greet", 0.97), ("rate", 0.01), ("add_complaint_info", 0.0)], [], "faq"),
    ("你们好", [("greet", 0.99)], [], "greet"),
    ("谢谢啦", [("thanks", 0.99)], [], "thanks"),
    ("张伟", [("greet", 0.6), ("inform", 0.3)], [], "inform"),
    ("孙小美", [("greet", 0.7), ("rate", 0.1)], [], "inform"),
    ("阿巴阿巴", [("greet", 0.7), ("rate", 0.1)], [], "unclear"),
    ("回见", [("goodbye", 0.7)], [], "goodbye"),
    # Not wanting to book is no booking.
    ("不想约了", [("stop", 0.9)], [], "stop"),
    ("那算了，不预约了", [("stop", 0.9)], [], "stop"),
    ("我想撤掉我的预约", [("cancel_booking", 0.5), ("stop", 0.3)], [], "cancel_booking"),
    ("看一下预约情况", [("check_booking", 0.6)], [], "check_booking"),
    # A person declined is no request for one.
    ("不用转人工，直接帮我约个明天上午办社保卡", [("request_human", 0.8), ("book_appointment", 0.1)], ["service"],
     "book_appointment"),
    ("不用转人工了", [("request_human", 0.7), ("deny", 0.2)], [], "deny"),
    ("转人工", [("request_human", 0.99)], [], "request_human"),
    ("别扯了，找个能管事的人来", [("emotion_angry", 1.0)], [], "request_human"),
    ("要交钱不", [("file_complaint", 0.7), ("faq", 0.2)], [], "faq"),
    ("行 就这么定了", [("inform", 0.6)], [], "affirm"),
    ("要得", [("inform", 0.6)], [], "affirm"),
    ("木问题", [("faq", 0.6)], [], "affirm"),
    ("二楼那个自助机把我社保卡吞了 咋按都退不出来 喊了半天也没人来管", [("faq", 1.0)], ["service"], "file_complaint"),
    ("宝宝满月了要上户口，下周三上午九点半，我是孩子妈妈邱雪，电话17674832426", [("faq", 0.9)], ["service", "mobile"],
     "book_appointment"),
    # Requests the centre does not handle.
    ("帮我查查快递到哪了 顺丰的 单号SF1420335876", [("check_booking", 0.8)], [], "out_of_scope"),
    ("帮我挂个明天市一医院心内科的专家号", [("book_appointment", 0.9)], [], "out_of_scope"),
    ("护照办好了能寄快递吗", [("faq", 0.9)], ["service"], "faq"),
    # A value with no value in it is not understood.
    ("fdsa fdsa ;;;; 00", [("inform", 0.91)], [], "unclear"),
    ("13812345678", [("inform", 0.95)], ["mobile"], "inform"),
    ("AB59FU", [("inform", 0.9)], [], "inform"),
]


@pytest.mark.parametrize(("text", "ranking", "entities", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_the_cues_correct_the_intent(text: str, ranking: list, entities: list, expected: str) -> None:
    assert corrected(text, ranking, entities) == expected


def test_a_button_payload_is_left_alone() -> None:
    assert corrected("/stop", [("stop", 1.0)]) == "stop"


def test_the_correction_is_recorded_in_the_parse() -> None:
    checker = IntentCueChecker({}, None, None, CUES)  # type: ignore[arg-type]
    message = Message(data={"text": "对了", "intent": {"name": "stop", "confidence": 0.7},
                            "intent_ranking": [{"name": "stop", "confidence": 0.7}]})
    checker.process([message])
    assert message.get("intent_cue") == {"rule": "yes_words", "from": "stop", "to": "affirm"}
    assert message.get("intent_ranking")[0]["name"] == "affirm"


def test_text_is_compared_normalised() -> None:
    # Traditional characters and full-width letters read as their simplified, half-width forms.
    assert normalize_text("確認") == "确认"
    assert corrected("確認", [("faq", 0.9)]) == "affirm"
