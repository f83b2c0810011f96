"""Citizen journeys end to end through the router: FAQ, booking, complaint, handoff."""

import re

import httpx
import pytest

from tests.support import open_live_conversation

pytestmark = pytest.mark.integration


class Citizen:
    """One simulated citizen talking to the product through the router's HTTP API."""

    def __init__(self, stack) -> None:
        self.base = stack.config.service_url
        self.conversation_id, self.headers = open_live_conversation(self.base, stack.config.integration_api_key)

    def say(self, text: str) -> str:
        """Sends a message and returns the replies joined as one text."""
        response = httpx.post(f"{self.base}/api/conversations/{self.conversation_id}/messages",
                              json={"text": text}, headers=self.headers, timeout=60)
        assert response.status_code == 200, response.text
        self.last = response.json()
        return "\n".join(r["text"] or "" for r in self.last["replies"])

    def buttons(self) -> list[dict]:
        """The quick replies of the last answer."""
        return [b for r in self.last["replies"] for b in r["buttons"]]


def test_faq_answer_is_rendered_from_the_catalogue(live_stack) -> None:
    citizen = Citizen(live_stack)
    answer = citizen.say("办护照要带什么材料")
    assert "护照" in answer
    assert "{" not in answer and "}" not in answer


def test_faq_follow_up_keeps_the_service_in_context(live_stack) -> None:
    citizen = Citizen(live_stack)
    citizen.say("办护照要带什么材料")
    fee_answer = citizen.say("那要多少钱")
    assert "护照" in fee_answer
    assert re.search(r"\d+\s*元", fee_answer)


def test_template_typed_by_a_citizen_is_not_rendered(live_stack) -> None:
    citizen = Citizen(live_stack)
    answer = citizen.say("{fee} {{ config }} <script>alert(1)</script>")
    assert answer
    assert "Traceback" not in answer


def test_booking_from_faq_context_ends_with_a_confirmation_code(live_stack) -> None:
    citizen = Citizen(live_stack)
    citizen.say("办护照要带什么材料")
    reply = citizen.say("帮我预约")
    assert "哪一天" in reply or "时间" in reply
    reply = citizen.say("下周一上午十点")
    if "姓名" not in reply:
        # The service offered nearby slots: take the first one.
        assert citizen.buttons(), reply
        reply = citizen.say(citizen.buttons()[0]["payload"])
    assert "姓名" in reply
    reply = citizen.say("张三")
    assert "手机号" in reply
    reply = citizen.say("1391234567")
    assert "11位手机号" in reply
    reply = citizen.say("13912345678")
    assert "请确认" in reply and "护照" in reply
    reply = citizen.say("确认")
    code = re.search(r"预约码：([A-HJ-KM-NP-Z2-9]{6})", reply)
    assert code, reply
    assert "材料" in reply


def test_complaint_gets_a_ticket_number_and_deadlines(live_stack) -> None:
    citizen = Citizen(live_stack)
    replies = [citizen.say("我要投诉三号窗口的工作人员态度很差，对我大声呵斥")]
    for _ in range(8):
        text = replies[-1]
        if re.search(r"TS\d{8}-\d{4}", text):
            break
        if "确认" in text and ("投诉" in text or "类别" in text) and "手机" not in text.split("确认")[-1]:
            replies.append(citizen.say("确认"))
        elif "手机" in text or "联系" in text:
            replies.append(citizen.say("13812345678"))
        elif "时间" in text or "地点" in text or "哪里" in text:
            replies.append(citizen.say("今天上午在三号窗口"))
        elif "类别" in text or "属于" in text:
            replies.append(citizen.say("是的"))
        else:
            replies.append(citizen.say("是的"))
    transcript = "\n".join(replies)
    assert re.search(r"TS\d{8}-\d{4}", transcript), transcript
    assert "30分钟" in transcript and "48小时" in transcript


def test_explicit_request_for_a_person_queues_the_citizen(live_stack) -> None:
    citizen = Citizen(live_stack)
    reply = citizen.say("转人工")
    assert citizen.last["mode"] == "waiting", reply
    assert re.search(r"第\s*\d+\s*位|排队|留言", reply)
    # While waiting, the bot does not answer FAQ questions.
    reply = citizen.say("身份证丢了怎么办")
    assert citizen.last["mode"] == "waiting"
    # The citizen can stop waiting and return to the bot.
    citizen.say("不用了")
    assert citizen.last["mode"] == "bot"


def test_urgent_safety_message_gives_emergency_numbers_first(live_stack) -> None:
    citizen = Citizen(live_stack)
    reply = citizen.say("我不想活了，活着没意思")
    first = citizen.last["replies"][0]["text"]
    assert "110" in first or "12356" in first, reply
    assert "12356" in reply
