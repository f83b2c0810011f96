"""Booking actions: the commit of the booking form (bot/actions/booking_form.py) and look-up/cancel/reschedule by code.

Thin by design: dates are parsed, capacity and working days decided, and
bookings committed by the service (/internal/appointments/...). Texts the
citizen reads are the domain's responses, or reasons the service words.
"""

import hashlib
import re
import uuid
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import form_repair
from bot.actions.service_client import ServiceClient, ServiceError, ServiceUnavailable

API = "/internal/appointments"
CODE_PATTERN = re.compile(r"^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}$")
# A code inside a sentence ("我的预约码是AB59FU，…"): six read-aloud characters standing alone.
CODE_IN_TEXT = re.compile(r"(?<![A-Z0-9])[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{6}(?![A-Z0-9])")
# Words that say when ("改到下周一下午"): the new time came with the request.
WHEN_IN_TEXT = re.compile(r"[今明后]天|大后天|下?周[一二三四五六日天]|星期|礼拜|[0-9一二三四五六七八九十]+[月号日]|[上下]午|[0-9一二两三四五六七八九十]+点")
LAST4_IN_TEXT = re.compile(r"(?:尾号|后四位|后4位|末四位)\s*(?:是|为|：|:)?\s*(\d{4})(?!\d)")
MAX_SLOT_BUTTONS = 8
APPOINTMENT_SLOTS = ["appointment_service", "appointment_day", "appointment_start", "appointment_name",
                     "appointment_mobile", "appointment_id_number", "appointment_confirmed", "appointment_part",
                     "appointment_label", "appointment_service_name", "appointment_request_id",
                     "appointment_misses", "appointment_prompted"]
BOOKING_SLOTS = ["booking_operation", "booking_code_value", "booking_mobile_last4", "booking_service",
                 "booking_day", "reschedule_when", "reschedule_day", "reschedule_start"]
# What a finished operation forgets; the checked code, digits, service and day stay for a follow-up
# in the same conversation ("那帮我改到同一天下午三点" after "我约的是几点").
OPERATION_SLOTS = ["booking_operation", "reschedule_when", "reschedule_day", "reschedule_start"]


def service_client() -> ServiceClient:
    """The client to the service; tests point it elsewhere through the environment."""
    return ServiceClient()


def requester(tracker: Tracker) -> str:
    """Who is looking a booking up: the conversation, so one stranger's guesses never lock out the owner."""
    return f"conversation:{tracker.sender_id}"[:128]


def slot_button(slot: dict[str, Any]) -> dict[str, str]:
    """A button choosing a free slot; its payload is plain text the date parser reads."""
    return {"title": f"{slot['label']}（余{slot['remaining']}）", "payload": f"{slot['day']} {slot['start']}"}


def offer_alternatives(dispatcher: CollectingDispatcher, answer: dict[str, Any]) -> None:
    """Says why the asked time is unavailable and offers the nearest free slots as buttons."""
    if answer.get("reason"):
        dispatcher.utter_message(response="utter_appointment_not_available", reason=answer["reason"])
    alternatives = answer.get("alternatives") or []
    if alternatives:
        dispatcher.utter_message(response="utter_appointment_alternatives",
                                 buttons=[slot_button(slot) for slot in alternatives])
    else:
        dispatcher.utter_message(response="utter_appointment_no_alternatives")


async def choose_time(client: ServiceClient, dispatcher: CollectingDispatcher, service_id: str, text: str,
                      known_day: str | None = None) -> dict[str, Any] | None:
    """Parses a date/time and checks it; returns {day, start, label} when bookable, {day, part} when a
    time is still to be picked, or None after telling the citizen why not."""
    when = await client.post(f"{API}/when", json={"text": text[:100]})
    if when["problem"]:
        dispatcher.utter_message(response="utter_appointment_not_available", reason=when["message"])
        return None
    day = when["day"] if when["day_given"] or not known_day else known_day
    query = {"service_id": service_id, "day": day, "start": when["start"], "part": when["part"]}
    answer = await client.post(f"{API}/availability", json=query)
    if not answer["available"]:
        offer_alternatives(dispatcher, answer)
        return None
    if when["start"] is None:
        return {"day": day, "start": None, "part": when["part"], "day_label": answer["day_label"],
                "slots": answer["slots"]}
    label = next(slot["label"] for slot in answer["slots"] if slot["start"] == when["start"])
    return {"day": day, "start": when["start"], "label": label}


def offer_day_slots(dispatcher: CollectingDispatcher, choice: dict[str, Any]) -> None:
    """Lists a day's free slots (within the asked part of the day) as buttons."""
    dispatcher.utter_message(response="utter_appointment_pick_start", day_label=choice["day_label"],
                             buttons=[slot_button(slot) for slot in choice["slots"][:MAX_SLOT_BUTTONS]])


def clear(slots: list[str]) -> list[EventType]:
    """Empties the given slots."""
    return [SlotSet(slot, None) for slot in slots]


class ActionBookAppointment(Action):
    """Commits the confirmed booking and gives the code and what to bring."""

    def name(self) -> str:
        """Names the action."""
        return "action_book_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Books once per confirmation, even when retried."""
        if tracker.get_slot("appointment_confirmed") is not True:
            dispatcher.utter_message(response="utter_appointment_not_submitted")
            return clear(APPOINTMENT_SLOTS)
        conversation = hashlib.sha256(tracker.sender_id.encode()).hexdigest()[:32]
        body = {"service_id": tracker.get_slot("appointment_service"), "day": tracker.get_slot("appointment_day"),
                "start": tracker.get_slot("appointment_start"), "name": tracker.get_slot("appointment_name"),
                "mobile": tracker.get_slot("appointment_mobile"),
                "id_number": tracker.get_slot("appointment_id_number"),
                "idempotency_key": f"{conversation}:{tracker.get_slot('appointment_request_id') or uuid.uuid4().hex}",
                "conversation_id": tracker.sender_id[:64]}
        client = service_client()
        try:
            booking = await client.post(f"{API}/bookings", json=body)
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_service_busy")
            return []
        except ServiceError as error:
            if error.code == "full":
                # Someone took the last place since the check: pick again, keeping the other answers.
                offer_alternatives(dispatcher, {"reason": error.message,
                                                "alternatives": (error.details or {}).get("alternatives")})
                return [*clear(["appointment_day", "appointment_start", "appointment_label", "appointment_confirmed"]),
                        FollowupAction("appointment_form")]
            dispatcher.utter_message(response="utter_appointment_not_available", reason=error.message)
            return clear(APPOINTMENT_SLOTS)
        dispatcher.utter_message(response="utter_appointment_booked", code=booking["code"],
                                 service_name=booking["service_name"], slot_label=booking["label"],
                                 office_name=booking["office_name"], window_name=booking["window_name"],
                                 office_address=booking["office_address"])
        if booking["materials"]:
            materials = "\n".join(f"{index}. {item}" for index, item in enumerate(booking["materials"], 1))
            dispatcher.utter_message(response="utter_appointment_materials", materials=materials)
        return clear(APPOINTMENT_SLOTS)


class ActionClearAppointment(Action):
    """Forgets a booking or look-up the citizen walked away from."""

    def name(self) -> str:
        """Names the action."""
        return "action_clear_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Empties every booking slot."""
        return clear(APPOINTMENT_SLOTS + BOOKING_SLOTS)


class ValidateBookingCodeForm(FormValidationAction):
    """Checks a booking code against the mobile's last 4 digits, and a new time when rescheduling."""

    def name(self) -> str:
        """Names the action."""
        return "validate_booking_code_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        """Asks for a new time only when rescheduling."""
        if tracker.get_slot("booking_operation") == "reschedule":
            return list(domain_slots)
        return [slot for slot in domain_slots if slot != "reschedule_when"]

    async def extract_booking_code_value(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> dict[str, Any]:
        """Takes a code said in any message of the look-up, with or without the question."""
        # A code in the message replaces the one given before (the citizen corrects a typo).
        found = CODE_IN_TEXT.search(form_repair.latest_text(tracker).upper())
        return {"booking_code_value": found.group(0)} if found else {}

    async def extract_reschedule_when(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        """Takes the new time said with the request ("预约AUXCBN改到下周一下午，尾号0003")."""
        text = form_repair.latest_text(tracker)
        if tracker.get_slot("booking_operation") != "reschedule" or tracker.get_slot("reschedule_when") or \
                tracker.get_slot("requested_slot") == "reschedule_when" or not WHEN_IN_TEXT.search(text):
            return {}
        # The code and the digits would read as a time: only the words about the new time are kept.
        return {"reschedule_when": LAST4_IN_TEXT.sub("", CODE_IN_TEXT.sub("", text.upper()))}

    async def extract_booking_mobile_last4(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                           domain: DomainDict) -> dict[str, Any]:
        """Takes "尾号5678" said together with the code."""
        found = LAST4_IN_TEXT.search(form_repair.latest_text(tracker))
        return {"booking_mobile_last4": found.group(1)} if found else {}

    async def validate_booking_code_value(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> dict[str, Any]:
        """Accepts 6 characters of the read-aloud alphabet, in any case, with spaces ignored."""
        code = re.sub(r"[\s\-]", "", str(value)).upper()
        if not CODE_PATTERN.match(code):
            dispatcher.utter_message(response="utter_booking_code_invalid")
            return {"booking_code_value": None}
        return {"booking_code_value": code}

    async def validate_booking_mobile_last4(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                            domain: DomainDict) -> dict[str, Any]:
        """Checks code and last 4 digits together with the service; a mismatch asks for both again."""
        digits = re.sub(r"\D", "", str(value))
        if len(digits) not in (4, 11):
            dispatcher.utter_message(response="utter_booking_last4_invalid")
            return {"booking_mobile_last4": None}
        last4 = digits[-4:]
        try:
            booking = await service_client().post(f"{API}/bookings/lookup", json={
                "code": tracker.get_slot("booking_code_value"), "mobile_last4": last4,
                "requester": requester(tracker)})
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_service_busy")
            return {"booking_mobile_last4": None}
        except ServiceError as error:
            throttled = error.code == "too_many_attempts"
            dispatcher.utter_message(response="utter_booking_lookup_throttled" if throttled else "utter_booking_not_found")
            # The code is kept: the citizen says the digits (or a corrected code) again.
            return {"booking_mobile_last4": None}
        return {"booking_mobile_last4": last4, "booking_service": booking["service_id"],
                "booking_day": str(booking["day"])}

    async def validate_reschedule_when(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        """Checks the new time; a day without a time gets its free slots as buttons."""
        try:
            # A time alone ("同一天下午三点") is on the day picked so far, else on the booked day.
            choice = await choose_time(service_client(), dispatcher, tracker.get_slot("booking_service"), str(value),
                                       tracker.get_slot("reschedule_day") or tracker.get_slot("booking_day"))
        except (ServiceUnavailable, ServiceError):
            dispatcher.utter_message(response="utter_service_busy")
            return {"reschedule_when": None}
        if choice is None:
            return {"reschedule_when": None}
        if choice["start"] is None and choice["part"] and choice["slots"]:
            # "改到下周一下午": the first free slot in that part of the day; the citizen can move it again.
            first = choice["slots"][0]
            return {"reschedule_when": str(value), "reschedule_day": first["day"], "reschedule_start": first["start"]}
        if choice["start"] is None:
            offer_day_slots(dispatcher, choice)
            return {"reschedule_when": None, "reschedule_day": choice["day"]}
        return {"reschedule_when": str(value), "reschedule_day": choice["day"], "reschedule_start": choice["start"]}


class ActionAskRescheduleWhen(Action):
    """Asks for the new day and time, unless this turn already offered that day's free slots."""

    def name(self) -> str:
        """Names the action."""
        return "action_ask_reschedule_when"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """One question per turn: the slot buttons for "改到下周二" already ask which time."""
        if not form_repair.said_this_turn(tracker):
            dispatcher.utter_message(response="utter_ask_reschedule_when")
        return []


class ActionManageBooking(Action):
    """Shows, cancels or reschedules the checked booking."""

    def name(self) -> str:
        """Names the action."""
        return "action_manage_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Calls the service for the asked operation and reports the result."""
        operation = tracker.get_slot("booking_operation") or "check"
        check = {"code": tracker.get_slot("booking_code_value"), "mobile_last4": tracker.get_slot("booking_mobile_last4"),
                 "requester": requester(tracker)}
        client = service_client()
        try:
            if operation == "cancel":
                booking = await client.post(f"{API}/bookings/cancel", json=check)
                dispatcher.utter_message(response="utter_booking_cancelled", code=booking["code"],
                                         slot_label=booking["label"])
            elif operation == "reschedule":
                booking = await client.post(f"{API}/bookings/reschedule", json={
                    **check, "day": tracker.get_slot("reschedule_day"), "start": tracker.get_slot("reschedule_start")})
                dispatcher.utter_message(response="utter_booking_rescheduled", code=booking["code"],
                                         slot_label=booking["label"], office_name=booking["office_name"],
                                         window_name=booking["window_name"])
            else:
                booking = await client.post(f"{API}/bookings/lookup", json=check)
                dispatcher.utter_message(response="utter_booking_status", code=booking["code"],
                                         service_name=booking["service_name"], slot_label=booking["label"],
                                         office_name=booking["office_name"], window_name=booking["window_name"],
                                         status_name=booking["status_name"])
            if operation != "cancel":
                return [*clear(OPERATION_SLOTS), SlotSet("booking_day", str(booking["day"]))]
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_service_busy")
        except ServiceError as error:
            if error.code == "full":
                offer_alternatives(dispatcher, {"reason": error.message,
                                                "alternatives": (error.details or {}).get("alternatives")})
            elif error.code == "booking_not_found":
                dispatcher.utter_message(response="utter_booking_not_found")
            elif error.code == "too_many_attempts":
                dispatcher.utter_message(response="utter_booking_lookup_throttled")
            else:
                dispatcher.utter_message(response="utter_booking_not_active", reason=error.message)
        return clear(BOOKING_SLOTS)
