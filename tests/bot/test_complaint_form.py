"""The complaint form against a real service process: every detail from every message, corrections, repair.

Run in the bot environment: .venv-bot/bin/python -m pytest tests/bot --noconftest -p no:cacheprovider
"""

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import complaints
from tests.bot.test_appointments_actions import point_client, service_url  # noqa: F401 - fixtures


def form_tracker(slots: dict[str, Any], text: str, intent: str, asked: str | None,
                 events: list[dict[str, Any]] | None = None) -> Tracker:
    return Tracker("chat-7", {"requested_slot": asked, **slots},
                   {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
                   events if events is not None else [{"event": "user", "text": text}], False, None,
                   {"name": "complaint_form"}, "action_listen")


async def say(text: str, slots: dict[str, Any] | None = None, intent: str = "inform", asked: str | None = None,
              events: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    dispatcher = CollectingDispatcher()
    result = await complaints.ValidateComplaintForm().run(
        dispatcher, form_tracker(slots or {}, text, intent, asked and f"complaint_{asked}", events), {})
    said = [message["response"] for message in dispatcher.messages]
    return ({e["name"]: e["value"] for e in result} if result else None), said


OPENING = [{"event": "user", "text": ""}, {"event": "action", "name": "action_start_complaint"}]


async def test_the_opening_message_gives_everything_at_once() -> None:
    text = "我要投诉，今天下午在社保窗口排了两个小时队，工作人员一直在玩手机，我电话13812345678"
    slots, said = await say(text, intent="file_complaint", events=[{"event": "user", "text": text}, OPENING[1]])
    assert "玩手机" in slots["complaint_description"] and "我要投诉" not in slots["complaint_description"]
    assert slots["complaint_location"] == "社保窗口，今天下午"
    assert slots["complaint_contact"] == "13812345678" and slots["complaint_contact_label"] == "138****5678"
    assert slots["complaint_category"] == "staff_attitude"
    assert slots["requested_slot"] == "complaint_confirmed" and said == []


async def test_a_bare_request_asks_for_what_happened_without_any_error() -> None:
    slots, said = await say("我要投诉", intent="file_complaint", events=[{"event": "user", "text": "我要投诉"},
                                                                      OPENING[1]])
    assert slots["requested_slot"] == "complaint_description" and said == []


async def test_bare_answers_answer_the_question_asked() -> None:
    described = {"complaint_description": "窗口工作人员态度很差", "complaint_category": "staff_attitude",
                 "complaint_category_label": "服务态度"}
    place, _ = await say("3号窗口，今天上午10点", described, asked="location")
    assert place["complaint_location"] == "3号窗口，今天上午10点" and "complaint_description" not in place
    skipped, _ = await say("跳过", described, asked="location")
    assert skipped["complaint_location"] == "未提供"
    anonymous, _ = await say("匿名", {**described, "complaint_location": "未提供"}, asked="contact")
    assert anonymous["complaint_contact"] == "anonymous"
    typo, said = await say("1381234567", {**described, "complaint_location": "未提供"}, asked="contact")
    assert said == ["utter_complaint_contact_invalid"] and typo["complaint_prompted"] is True
    category, _ = await say("办事效率", {"complaint_description": "说不清楚的问题"}, asked="category")
    assert category["complaint_category"] == "efficiency"


async def test_a_misconduct_report_is_an_integrity_complaint() -> None:
    text = "举报一下，有人在大厅门口收钱帮插队"
    slots, _ = await say(text, intent="file_complaint", events=[{"event": "user", "text": text}, OPENING[1]])
    assert slots["complaint_category"] == "fees_integrity" and "收钱" in slots["complaint_description"]


FILLED = {"complaint_description": "窗口工作人员态度很差", "complaint_category": "staff_attitude",
          "complaint_category_label": "服务态度", "complaint_location": "3号窗口", "complaint_contact": "13812345678",
          "complaint_contact_label": "138****5678"}


async def test_corrections_at_the_confirmation() -> None:
    phone, _ = await say("电话写错了，是13987654321", FILLED, asked="confirmed")
    assert phone["complaint_contact"] == "13987654321" and phone["requested_slot"] == "complaint_confirmed"
    category, _ = await say("类别不对", FILLED, asked="confirmed")
    assert category["complaint_category"] is None and category["requested_slot"] == "complaint_category"
    which, said = await say("不对", FILLED, intent="deny", asked="confirmed")
    assert said == ["utter_complaint_what_to_change"]
    yes, _ = await say("确认", FILLED, intent="affirm", asked="confirmed")
    assert yes["complaint_confirmed"] is True and yes["requested_slot"] is None


async def test_misses_count_and_leaving_is_left_to_the_rules() -> None:
    first, _ = await say("嗯嗯那个", {}, asked="description")
    assert first["complaint_misses"] == 1
    second, _ = await say("就是那个啥", {"complaint_misses": 1}, asked="description")
    assert second["complaint_misses"] == 2
    assert (await say("不投诉了", {}, intent="stop", asked="description"))[0] is None
    assert (await say("转人工", {}, intent="request_human", asked="contact"))[0] is None


async def test_the_question_after_two_misses_is_the_offer_of_a_person() -> None:
    dispatcher = CollectingDispatcher()
    await complaints.ActionAskComplaintDescription().run(
        dispatcher, form_tracker({"complaint_misses": 2}, "", "inform", "complaint_description", []), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_form_offer_person"]


async def test_a_question_about_the_deadline_is_answered_with_the_service_standard() -> None:
    slots, said = await say("多久能有结果？", {"complaint_description": "窗口态度差", "complaint_category": "staff_attitude"},
                            intent="faq", asked="location")
    assert said == ["utter_complaint_service_standard"] and slots["requested_slot"] == "complaint_location"
