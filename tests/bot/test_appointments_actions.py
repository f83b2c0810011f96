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


async def test_service_comes_from_the_faq_context() -> None:
    form = actions.ValidateAppointmentForm()
    extracted = await form.extract_appointment_service(CollectingDispatcher(), tracker({"current_service": "passport"}),
                                                       DOMAIN)
    assert extracted == {"appointment_service": "passport"}
    result, _ = await validate(form, "appointment_service", "passport", {})
    assert result == {"appointment_service": "passport", "appointment_service_name": "普通护照"}
    result, dispatcher = await validate(form, "appointment_service", "火星签证", {})
    assert result == {"appointment_service": None}
    assert responses(dispatcher) == ["utter_appointment_service_unknown"]


async def test_day_with_time_fills_both() -> None:
    form = actions.ValidateAppointmentForm()
    result, dispatcher = await validate(form, "appointment_day", "下周三上午十点", {"appointment_service": "passport"})
    assert result == {"appointment_day": "2026-11-25", "appointment_start": "10:00",
                      "appointment_label": "11月25日（周三）10:00-10:30"}
    assert dispatcher.messages == []


async def test_part_of_day_offers_that_days_slots() -> None:
    form = actions.ValidateAppointmentForm()
    result, dispatcher = await validate(form, "appointment_day", "明天下午", {"appointment_service": "passport"})
    assert result == {"appointment_day": "2026-11-19", "appointment_start": None, "appointment_part": "afternoon"}
    buttons = dispatcher.messages[0]["buttons"]
    assert responses(dispatcher) == ["utter_appointment_pick_start"]
    assert buttons[0]["payload"] == "2026-11-19 13:30" and len(buttons) == 7
    picked, _ = await validate(form, "appointment_start", "2026-11-19 14:00",
                               {"appointment_service": "passport", "appointment_day": "2026-11-19"})
    assert picked["appointment_start"] == "14:00"
    said, _ = await validate(form, "appointment_start", "三点半",
                             {"appointment_service": "passport", "appointment_day": "2026-11-19"})
    assert said["appointment_day"] == "2026-11-19" and said["appointment_start"] == "15:30"


async def test_weekend_is_refused_with_reason_and_three_buttons() -> None:
    form = actions.ValidateAppointmentForm()
    result, dispatcher = await validate(form, "appointment_day", "周六上午", {"appointment_service": "passport"})
    assert result == {"appointment_day": None, "appointment_start": None}
    assert responses(dispatcher) == ["utter_appointment_not_available", "utter_appointment_alternatives"]
    assert "周末" in dispatcher.messages[0]["reason"]
    assert len(dispatcher.messages[1]["buttons"]) == 3


async def test_past_and_ambiguous_times_are_asked_again_with_the_reason() -> None:
    form = actions.ValidateAppointmentForm()
    for text, word in (("10月8号", "过去"), ("下周", "明确")):
        result, dispatcher = await validate(form, "appointment_day", text, {"appointment_service": "passport"})
        assert result["appointment_day"] is None
        assert word in dispatcher.messages[0]["reason"]


async def test_bad_mobile_is_rejected_with_the_reason_and_name_kept() -> None:
    form = actions.ValidateAppointmentForm()
    result, dispatcher = await validate(form, "appointment_mobile", "1380013800", {"appointment_name": "张三"})
    assert result == {"appointment_mobile": None}
    assert responses(dispatcher) == ["utter_appointment_mobile_invalid"]
    assert "11位" in dispatcher.messages[0]["reason"]
    result, _ = await validate(form, "appointment_mobile", "138 0013 8000", {})
    assert result == {"appointment_mobile": "13800138000"}
    name, _ = await validate(form, "appointment_name", "我叫李秀英", {})
    assert name == {"appointment_name": "李秀英"}
    bad_name, _ = await validate(form, "appointment_name", "13800138000", {})
    assert bad_name == {"appointment_name": None}


async def test_volunteered_id_number_is_checked() -> None:
    form = actions.ValidateAppointmentForm()
    slots = await form.required_slots(DOMAIN["forms"]["appointment_form"]["required_slots"], CollectingDispatcher(),
                                      tracker({"appointment_id_number": "x"}), DOMAIN)
    assert slots[-2:] == ["appointment_id_number", "appointment_confirmed"]
    without = await form.required_slots(DOMAIN["forms"]["appointment_form"]["required_slots"], CollectingDispatcher(),
                                        tracker({}), DOMAIN)
    assert "appointment_id_number" not in without
    bad, dispatcher = await validate(form, "appointment_id_number", "110105194912310021", {})
    assert bad == {"appointment_id_number": None} and responses(dispatcher) == ["utter_appointment_id_number_invalid"]
    good, _ = await validate(form, "appointment_id_number", "11010519491231002x", {})
    assert good == {"appointment_id_number": "11010519491231002X"}


BOOKING = {"appointment_service": "passport", "appointment_service_name": "普通护照", "appointment_day": "2026-11-20",
           "appointment_start": "09:00", "appointment_label": "11月20日（周五）09:00-09:30", "appointment_name": "张三",
           "appointment_mobile": "13800138000", "appointment_confirmed": True}


async def book(slots: dict[str, Any], sender: str = "citizen-1") -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionBookAppointment().run(dispatcher, tracker(slots, sender=sender), DOMAIN)
    return events, dispatcher


async def test_summary_then_commit_gives_code_and_materials_and_a_retry_books_once() -> None:
    dispatcher = CollectingDispatcher()
    events = await actions.ActionAskAppointmentConfirmed().run(dispatcher, tracker(BOOKING), DOMAIN)
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
    assert wrong == {"booking_code_value": None, "booking_mobile_last4": None}
    assert responses(dispatcher) == ["utter_booking_not_found"]
    right, _ = await validate(form, "booking_mobile_last4", "尾号5678", {"booking_code_value": code})
    assert right == {"booking_mobile_last4": "5678", "booking_service": "passport"}
    status = await manage("check", code, "5678")
    assert status.messages[0]["status_name"] == "已预约"
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
