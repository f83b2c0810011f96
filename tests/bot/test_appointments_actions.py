"""Booking actions against a real service process (its own SQLite file, clock pinned to Wed 2026-11-18 10:00).

Run in the bot environment: .venv-bot/bin/python -m pytest tests/bot --noconftest -p no:cacheprovider
"""

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import appointments as actions
from bot.actions import booking_form

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PYTHON = ROOT / ".venv" / "bin" / "python"
TOKEN = "actions-internal-token-0001"
DOMAIN: dict[str, Any] = {"forms": {"appointment_form": {"required_slots": [
    "appointment_service", "appointment_day", "appointment_start", "appointment_name", "appointment_mobile",
    "appointment_id_number", "appointment_confirmed"]},
    "booking_code_form": {"required_slots": ["booking_code_value", "booking_mobile_last4", "reschedule_when"]}},
    "slots": {}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Starts the real service on 127.0.0.1 with a migrated temporary database; stops it afterwards."""
    if not SERVICE_PYTHON.exists():
        pytest.skip("the service environment (.venv) is not installed")
    folder = tmp_path_factory.mktemp("service")
    database_url = f"sqlite:///{folder / 'service.db'}"
    env = {**os.environ, "DATABASE_URL": database_url, "INTERNAL_API_TOKEN": TOKEN,
           "RASA_TOKEN": "actions-test-rasa-token-0001", "SECRET_KEY": "actions-test-secret-key-0001",
           "APPOINTMENTS__FROZEN_CLOCK": "2026-11-18T10:00:00", "PYTHONPATH": str(ROOT)}
    subprocess.run([str(SERVICE_PYTHON), "-m", "service.migrate", database_url], cwd=ROOT, env=env, check=True)
    port = free_port()
    process = subprocess.Popen(
        [str(SERVICE_PYTHON), "-c", "import uvicorn; from service.app import create_app; "
         f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning')"],
        cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)
                break
            except urllib.error.HTTPError:
                # It answered (degraded while Rasa is not running): it is up.
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail("the service did not start")
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def point_client(service_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_URL", service_url)
    monkeypatch.setenv("INTERNAL_API_TOKEN", TOKEN)


def tracker(slots: dict[str, Any], text: str = "", intent: str = "inform", sender: str = "citizen-1") -> Tracker:
    """A tracker in the middle of a form, with the latest message and some slots."""
    return Tracker(sender, {"requested_slot": None, **slots},
                   {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
                   [], False, None, {"name": None}, "action_listen")


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


async def validate(form: Any, slot: str, value: Any, slots: dict[str, Any]) -> tuple[dict, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    method = getattr(form, f"validate_{slot}")
    return await method(value, dispatcher, tracker(slots, str(value)), DOMAIN), dispatcher


def form_tracker(slots: dict[str, Any], text: str, intent: str = "inform", asked: str | None = None,
                 events: list[dict[str, Any]] | None = None, sender: str = "citizen-1",
                 confidence: float = 1.0) -> Tracker:
    """The tracker the booking form's validation sees after the citizen said ``text``."""
    return Tracker(sender, {"requested_slot": asked, **slots},
                   {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []},
                   events if events is not None else [{"event": "user", "text": text}], False, None,
                   {"name": "appointment_form"}, "action_listen")


async def say(text: str, slots: dict[str, Any] | None = None, intent: str = "inform", asked: str | None = None,
              events: list[dict[str, Any]] | None = None, confidence: float = 1.0
              ) -> tuple[dict[str, Any] | None, list[str], list[dict]]:
    """Runs the form's validation on one message: (slot values set, responses, messages); None = form rejected."""
    dispatcher = CollectingDispatcher()
    result = await booking_form.ValidateAppointmentForm().run(
        dispatcher, form_tracker(slots or {}, text, intent, asked and f"appointment_{asked}", events,
                                 confidence=confidence), DOMAIN)
    if not result:
        return None, responses(dispatcher), dispatcher.messages
    return {e["name"]: e["value"] for e in result}, responses(dispatcher), dispatcher.messages


async def test_the_opening_message_fills_everything_it_says() -> None:
    slots, said, messages = await say("明天上午帮我约一下办护照，我叫张伟，电话13812345678", intent="book_appointment")
    assert slots["appointment_service"] == "passport" and slots["appointment_day"] == "2026-11-19"
    assert slots["appointment_start"] == "09:00" and slots["appointment_name"] == "张伟"
    assert slots["appointment_mobile"] == "13812345678"
    assert slots["requested_slot"] == "appointment_confirmed"
    # The time was chosen for the citizen: said once, changeable at the confirmation.
    assert said == ["utter_appointment_slot_chosen"] and "09:00" in messages[0]["slot_label"]


async def test_day_with_time_fills_both_and_says_what_is_held() -> None:
    slots, said, _ = await say("下周三上午十点", {"appointment_service": "passport"}, asked="day")
    assert (slots["appointment_day"], slots["appointment_start"]) == ("2026-11-25", "10:00")
    assert slots["appointment_label"] == "11月25日（周三）10:00-10:30" and said == ["utter_appointment_slot_chosen"]
    assert slots["requested_slot"] == "appointment_name"


async def test_a_part_of_the_day_takes_its_first_free_slot() -> None:
    slots, said, _ = await say("明天下午", {"appointment_service": "passport"}, asked="day")
    assert (slots["appointment_day"], slots["appointment_start"]) == ("2026-11-19", "13:30")
    assert said == ["utter_appointment_slot_chosen"]
    later, _, _ = await say("都行", {"appointment_service": "passport", "appointment_day": "2026-11-20"}, asked="start")
    assert (later["appointment_day"], later["appointment_start"]) == ("2026-11-20", "09:00")
    typed, _, _ = await say("三点半", {"appointment_service": "passport", "appointment_day": "2026-11-19"},
                            asked="start")
    assert (typed["appointment_day"], typed["appointment_start"]) == ("2026-11-19", "15:30")


async def test_a_closed_day_gets_the_nearest_slot_or_buttons_for_an_exact_time() -> None:
    slots, said, messages = await say("周日上午", {"appointment_service": "passport"}, asked="day")
    assert said == ["utter_appointment_slot_instead"] and "周末" in messages[0]["reason"]
    assert slots["appointment_start"] is not None and slots["appointment_prompted"] is False
    exact, said, messages = await say("周日上午十点", {"appointment_service": "passport"}, asked="day")
    assert said == ["utter_appointment_alternatives_ask"] and len(messages[0]["buttons"]) == 3
    assert exact["appointment_start"] is None and exact["appointment_prompted"] is True


async def test_past_and_vague_times_say_why_and_ask_once() -> None:
    for text, word in (("10月8号", "过去"), ("下周", "明确")):
        slots, said, messages = await say(text, {"appointment_service": "passport"}, asked="day")
        assert said == ["utter_appointment_when_problem"] and word in messages[0]["reason"]
        assert slots["appointment_prompted"] is True and slots["requested_slot"] == "appointment_day"


async def test_a_bare_name_is_the_answer_only_when_the_name_was_asked() -> None:
    slots, _, _ = await say("王强", {"appointment_service": "passport", "appointment_day": "2026-11-20",
                                   "appointment_start": "09:00"}, asked="name")
    assert slots["appointment_name"] == "王强"
    missed, said, _ = await say("王强", {"appointment_service": "passport"}, asked="day")
    assert "appointment_name" not in missed and missed["appointment_misses"] == 1 and said == []


async def test_a_mistyped_mobile_is_pointed_out_and_the_rest_kept() -> None:
    slots, said, _ = await say("1380013800", {"appointment_name": "张三"}, asked="mobile")
    assert said == ["utter_appointment_mobile_invalid_ask"] and "appointment_name" not in slots
    fine, _, _ = await say("138 0013 8000", {"appointment_name": "张三"}, asked="mobile")
    assert fine["appointment_mobile"] == "13800138000"


BOOKED = {"appointment_service": "passport", "appointment_service_name": "普通护照", "appointment_day": "2026-11-20",
          "appointment_start": "09:00", "appointment_label": "11月20日（周五）09:00-09:30", "appointment_name": "张三",
          "appointment_mobile": "13800138000", "appointment_request_id": "r-1"}


async def test_corrections_at_the_confirmation_change_one_thing_and_confirm_again() -> None:
    slots, _, _ = await say("不对，改成下午", BOOKED, intent="deny", asked="confirmed")
    assert slots["appointment_day"] == "2026-11-20" and slots["appointment_start"] == "13:30"
    assert slots["appointment_confirmed"] is None and slots["appointment_request_id"] is None
    assert "appointment_name" not in slots and slots["requested_slot"] == "appointment_confirmed"
    mobile, _, _ = await say("手机号错了，是13987654321", BOOKED, asked="confirmed")
    assert mobile["appointment_mobile"] == "13987654321" and mobile["requested_slot"] == "appointment_confirmed"
    forgot, _, _ = await say("名字写错了", BOOKED, asked="confirmed")
    assert forgot["appointment_name"] is None and forgot["requested_slot"] == "appointment_name"
    which, said, _ = await say("不对", BOOKED, intent="deny", asked="confirmed")
    assert said == ["utter_appointment_what_to_change"] and which["appointment_prompted"] is True
    yes, _, _ = await say("确认", BOOKED, intent="affirm", asked="confirmed")
    assert yes["appointment_confirmed"] is True and yes["requested_slot"] is None


async def test_questions_and_handoff_requests_leave_the_form_to_the_rules() -> None:
    assert (await say("要带什么材料？", {"appointment_service": "passport"}, intent="faq", asked="day"))[0] is None
    assert (await say("转人工", {}, intent="request_human", asked="day"))[0] is None
    assert (await say("算了不约了", {}, intent="stop", asked="day"))[0] is None
    # Back from an FAQ answer about a service, the form takes that service.
    resumed, _, _ = await say("社保卡要带什么", {"current_service": "social_security_card"}, intent="faq",
                              asked="service", events=[{"event": "user", "text": "社保卡要带什么"},
                                                       {"event": "action", "name": "action_answer_faq"}])
    assert resumed["appointment_service"] == "social_security_card"


async def test_an_answer_misread_by_nlu_is_still_an_answer_and_gibberish_never_confirms() -> None:
    named, _, _ = await say("我叫李娜", {"appointment_service": "passport"}, intent="request_human", asked="name",
                            confidence=0.52)
    assert named["appointment_name"] == "李娜"
    assert (await say("转人工", {}, intent="request_human", asked="name", confidence=0.52))[0] is None
    gibberish, _, _ = await say("阿巴阿巴", BOOKED, intent="affirm", asked="confirmed", confidence=0.68)
    assert "appointment_confirmed" not in gibberish and gibberish["appointment_misses"] == 1
    opening, said, _ = await say("我想预约", intent="book_appointment")
    assert opening["appointment_misses"] == 0 and said == []


async def test_the_service_can_be_corrected_mid_form_and_a_time_alone_is_on_the_chosen_day() -> None:
    # The corrected service keeps the chosen time when its windows have it free.
    slots, _, _ = await say("不对，是护照", {"appointment_service": "id_card", "appointment_day": "2026-11-26",
                                         "appointment_start": "13:30"}, intent="deny", asked="name")
    assert slots["appointment_service"] == "passport" and slots["appointment_start"] == "13:30"
    at_ten, _, _ = await say("改成十点", {**BOOKED, "appointment_day": "2026-11-19"}, asked="confirmed")
    assert (at_ten["appointment_day"], at_ten["appointment_start"]) == ("2026-11-19", "10:00")
    polite, _, _ = await say("不约了，谢谢", BOOKED, intent="stop", asked="confirmed")
    assert polite is None


async def test_a_volunteered_id_number_is_kept_only_when_valid() -> None:
    bad, _, _ = await say("身份证110105194912310021", {}, asked="service")
    assert bad["appointment_id_number"] is None
    good, _, _ = await say("身份证11010519491231002x", {}, asked="service")
    assert good["appointment_id_number"] == "11010519491231002X"


async def ask(action: Any, slots: dict[str, Any], events: list[dict[str, Any]] | None = None) -> list[str]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, form_tracker(slots, "", events=events or []), DOMAIN)
    return responses(dispatcher)


async def test_the_question_is_reworded_after_a_miss_and_a_person_offered_after_two() -> None:
    action = booking_form.ActionAskAppointmentName()
    assert await ask(action, {}) == ["utter_ask_appointment_name"]
    assert await ask(action, {"appointment_misses": 1}) == ["utter_reask_appointment_name"]
    assert await ask(action, {"appointment_misses": 2}) == ["utter_form_offer_person"]
    assert await ask(action, {"appointment_misses": 3}) == ["utter_form_offer_person_again"]
    assert await ask(action, {"appointment_prompted": True}) == []
    # Never the same words as the previous bot message: after a digression the question is reworded.
    previous = [{"event": "user", "text": "我要预约"},
                {"event": "bot", "text": "请问预约人的姓名是？", "metadata": {"utter_action": "utter_ask_appointment_name"}},
                {"event": "user", "text": "要带什么材料"}, {"event": "action", "name": "action_answer_faq"}]
    assert await ask(action, {}, previous) == ["utter_resume_appointment_name"]


BOOKING = {"appointment_service": "passport", "appointment_service_name": "普通护照", "appointment_day": "2026-11-20",
           "appointment_start": "09:00", "appointment_label": "11月20日（周五）09:00-09:30", "appointment_name": "张三",
           "appointment_mobile": "13800138000", "appointment_confirmed": True}


async def book(slots: dict[str, Any], sender: str = "citizen-1") -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionBookAppointment().run(dispatcher, tracker(slots, sender=sender), DOMAIN)
    return events, dispatcher


async def test_summary_then_commit_gives_code_and_materials_and_a_retry_books_once() -> None:
    dispatcher = CollectingDispatcher()
    events = await booking_form.ActionAskAppointmentConfirmed().run(dispatcher, tracker(BOOKING), DOMAIN)
    assert dispatcher.messages[0]["mobile_masked"] == "138****8000"
    request_id = events[0]["value"]
    slots = {**BOOKING, "appointment_request_id": request_id}
    events, dispatcher = await book(slots)
    assert responses(dispatcher) == ["utter_appointment_booked", "utter_appointment_materials"]
    code = dispatcher.messages[0]["code"]
    assert len(code) == 6 and "本人居民身份证" in dispatcher.messages[1]["materials"]
    assert SlotSet("appointment_service", None) in events
    _events, again = await book(slots)
    assert again.messages[0]["code"] == code


async def test_declined_summary_books_nothing() -> None:
    _events, dispatcher = await book({**BOOKING, "appointment_confirmed": False})
    assert responses(dispatcher) == ["utter_appointment_not_submitted"]


async def test_full_slot_at_commit_reopens_the_form_keeping_the_other_answers() -> None:
    for index in range(5):
        await book({**BOOKING, "appointment_start": "11:00", "appointment_mobile": f"1370000000{index}",
                    "appointment_request_id": f"fill-{index}"}, sender=f"filler-{index}")
    events, dispatcher = await book({**BOOKING, "appointment_start": "11:00", "appointment_mobile": "13600000000",
                                     "appointment_request_id": "late"}, sender="late")
    assert responses(dispatcher) == ["utter_appointment_not_available", "utter_appointment_alternatives"]
    assert len(dispatcher.messages[1]["buttons"]) == 3
    assert FollowupAction("appointment_form") in events
    assert SlotSet("appointment_start", None) in events and SlotSet("appointment_name", None) not in events


async def manage(operation: str, code: str, last4: str, **extra: Any) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    await actions.ActionManageBooking().run(dispatcher, tracker({
        "booking_operation": operation, "booking_code_value": code, "booking_mobile_last4": last4, **extra}), DOMAIN)
    return dispatcher


async def test_lookup_reschedule_and_cancel_by_code() -> None:
    _events, booked = await book({**BOOKING, "appointment_mobile": "13912345678", "appointment_request_id": "mgmt"},
                                 sender="mgmt")
    code = booked.messages[0]["code"]
    form = actions.ValidateBookingCodeForm()
    lowered, _ = await validate(form, "booking_code_value", code.lower(), {})
    assert lowered == {"booking_code_value": code}
    wrong, dispatcher = await validate(form, "booking_mobile_last4", "0000", {"booking_code_value": code})
    assert wrong == {"booking_mobile_last4": None}
    assert responses(dispatcher) == ["utter_booking_not_found"]
    right, _ = await validate(form, "booking_mobile_last4", "尾号5678", {"booking_code_value": code})
    assert right == {"booking_mobile_last4": "5678", "booking_service": "passport", "booking_day": "2026-11-20"}
    status = await manage("check", code, "5678")
    assert status.messages[0]["status_name"] == "已预约"
    # A time alone after the look-up ("同一天下午三点") is on the booked day.
    same_day, _ = await validate(form, "reschedule_when", "同一天下午三点",
                                 {"booking_service": "passport", "booking_day": "2026-11-20"})
    assert same_day["reschedule_day"] == "2026-11-20" and same_day["reschedule_start"] == "15:00"
    when, _ = await validate(form, "reschedule_when", "下周一下午两点", {"booking_service": "passport"})
    assert when["reschedule_day"] == "2026-11-23" and when["reschedule_start"] == "14:00"
    moved = await manage("reschedule", code, "5678", reschedule_day="2026-11-23", reschedule_start="14:00")
    assert responses(moved) == ["utter_booking_rescheduled"] and "11月23日" in moved.messages[0]["slot_label"]
    cancelled = await manage("cancel", code, "5678")
    assert responses(cancelled) == ["utter_booking_cancelled"]
    again = await manage("cancel", code, "5678")
    assert responses(again) == ["utter_booking_not_active"] and "已取消" in again.messages[0]["reason"]


async def test_a_strangers_guesses_are_throttled_without_locking_out_the_owner() -> None:
    _events, booked = await book({**BOOKING, "appointment_mobile": "13712340001", "appointment_request_id": "guarded"},
                                 sender="guarded")
    code = booked.messages[0]["code"]
    form = actions.ValidateBookingCodeForm()
    said = []
    for guess in range(8):
        dispatcher = CollectingDispatcher()
        await form.validate_booking_mobile_last4(f"{1000 + guess}", dispatcher,
                                                 tracker({"booking_code_value": code}, sender="stranger"), DOMAIN)
        said += responses(dispatcher)
    assert said[0] == "utter_booking_not_found" and said[-1] == "utter_booking_lookup_throttled"
    dispatcher = CollectingDispatcher()
    owner = await form.validate_booking_mobile_last4("0001", dispatcher,
                                                     tracker({"booking_code_value": code}, sender="guarded"), DOMAIN)
    assert owner["booking_mobile_last4"] == "0001"


async def test_unreachable_service_says_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_URL", "http://127.0.0.1:9")
    _events, dispatcher = await book({**BOOKING, "appointment_request_id": "offline"})
    assert responses(dispatcher) == ["utter_service_busy"]


async def test_a_new_time_is_asked_only_when_rescheduling() -> None:
    form = actions.ValidateBookingCodeForm()
    slots = DOMAIN["forms"]["booking_code_form"]["required_slots"]
    asked = await form.required_slots(slots, CollectingDispatcher(), tracker({"booking_operation": "reschedule"}),
                                      DOMAIN)
    assert asked[-1] == "reschedule_when"
    for operation in ("check", "cancel"):
        asked = await form.required_slots(slots, CollectingDispatcher(), tracker({"booking_operation": operation}),
                                          DOMAIN)
        assert "reschedule_when" not in asked


CONFIRMING = {"appointment_service": "passport", "appointment_service_name": "普通护照", "appointment_day": "2026-11-19",
              "appointment_start": "15:00", "appointment_label": "11月19日（周四）15:00-15:30",
              "appointment_part": None, "appointment_name": "张伟", "appointment_mobile": "13812345678"}


async def test_moving_the_day_at_the_read_back_keeps_the_time() -> None:
    slots, _, _ = await say("明天去不了 换成下周一吧 时间不变", CONFIRMING, asked="confirmed")
    assert (slots["appointment_day"], slots["appointment_start"]) == ("2026-11-23", "15:00")
    assert slots["requested_slot"] == "appointment_confirmed" and slots["appointment_confirmed"] is None


async def test_the_part_after_gai_cheng_is_the_one_meant() -> None:
    slots, _, _ = await say("上午有事，改成下午", {**CONFIRMING, "appointment_start": "09:00",
                                             "appointment_label": "11月19日（周四）09:00-09:30"}, asked="confirmed")
    assert slots["appointment_start"] >= "13:30"


async def test_a_time_in_the_lunch_break_keeps_the_day_for_the_next_answer() -> None:
    slots, said, _ = await say("明天中午12点半", {"appointment_service": "passport"}, asked="day")
    assert slots["appointment_day"] == "2026-11-19" and slots["appointment_start"] is None
    assert said == ["utter_appointment_alternatives_ask"]
    later, _, _ = await say("那就下午一点半吧", {"appointment_service": "passport", "appointment_day": "2026-11-19"},
                            asked="start")
    assert (later["appointment_day"], later["appointment_start"]) == ("2026-11-19", "13:30")


async def test_asking_why_the_mobile_is_needed_gets_the_reason() -> None:
    slots, said, _ = await say("为什么要手机号？", {**CONFIRMING, "appointment_mobile": None}, intent="faq", asked="mobile")
    assert said == ["utter_appointment_mobile_required"] and slots["requested_slot"] == "appointment_mobile"


async def test_asking_whether_a_service_can_be_booked_opens_its_booking() -> None:
    # "能约吗" that opened the form is the request itself, not a digression.
    slots, _, _ = await say("娃刚满月 想给他上个户口 能约吗", intent="book_appointment")
    assert slots["appointment_service"] == "newborn" and slots["requested_slot"] == "appointment_day"


async def test_asking_for_the_earliest_day_is_an_answer_to_the_day_question() -> None:
    slots, _, messages = await say("不知道哪天有空，最早什么时候能约", {"appointment_service": "housing_fund_withdrawal"},
                                   intent="faq", asked="day")
    assert slots is not None and slots["appointment_day"] and slots["appointment_start"]
    assert slots["requested_slot"] == "appointment_name"


async def test_a_weekday_alone_at_the_read_back_stays_in_the_booked_week() -> None:
    booked = {"appointment_service": "business_license", "appointment_day": "2026-11-26", "appointment_start": "10:00",
              "appointment_name": "卢振华", "appointment_mobile": "15890327461"}
    slots, _, _ = await say("哦不对 周四我有事 改周五吧 时间不变", booked, asked="confirmed")
    assert slots["appointment_day"] == "2026-11-27" and slots["appointment_start"] == "10:00"


async def test_the_new_time_is_not_asked_again_when_the_day_slots_were_just_offered() -> None:
    from bot.actions.appointments import ActionAskRescheduleWhen

    offered = [{"event": "user", "text": "K7M2QX 尾号1234 改到下周二"}, {"event": "bot", "text": "下周二还有这些时段："}]
    for events, asked in ((offered, []), (offered[:1], ["utter_ask_reschedule_when"])):
        dispatcher = CollectingDispatcher()
        await ActionAskRescheduleWhen().run(dispatcher, form_tracker({}, "改到下周二", events=events), DOMAIN)
        assert responses(dispatcher) == asked


async def test_a_day_alone_asks_the_time_and_an_answer_about_something_else_holds_the_first_one() -> None:
    # "24号": the clerk asks which time on that day, offering its free slots.
    slots, said, _ = await say("24号", {"appointment_service": "newborn"}, asked="day")
    assert slots["appointment_day"] == "2026-11-24" and slots.get("appointment_start") is None
    assert slots["requested_slot"] == "appointment_start"
    # The citizen gives the mobile instead: the first free time is held and said, the form goes on.
    slots, said, _ = await say("电话18736025194", {"appointment_service": "newborn", "appointment_day": "2026-11-24"},
                               asked="start")
    assert slots["appointment_mobile"] == "18736025194" and slots["appointment_start"] == "09:00"
    assert "utter_appointment_slot_chosen" in said and slots["requested_slot"] == "appointment_name"
