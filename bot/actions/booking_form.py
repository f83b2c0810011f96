"""The booking form: every detail from every message, in any order, with corrections and repair.

Each citizen message is read once by the service (/internal/appointments/understand),
which finds the service, the date and time, the name, the mobile and the ID number
wherever they are in the sentence. What was asked only decides how a bare answer
is read. The service also checks capacity and working days; these actions relay.
"""

import re
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import form_repair
from bot.actions.appointments import service_client, slot_button
from bot.actions.service_client import ServiceClient, ServiceError, ServiceUnavailable

API = "/internal/appointments"
FORM = "appointment_form"
PREFIX = "appointment_"
# In the order they are asked; the ID number only when volunteered.
REQUIRED = ["appointment_service", "appointment_day", "appointment_start", "appointment_name",
            "appointment_mobile", "appointment_id_number", "appointment_confirmed"]
TIME_SLOTS = ["appointment_day", "appointment_start", "appointment_label", "appointment_part"]
MAX_SLOT_BUTTONS = 8
# "为什么要手机号？", "留电话干嘛": why the form asks what it asks.
WHY_ASKED = re.compile(r"为什么|为啥|干嘛|干啥|干什么|有什么用|做什么用|用来干|非要|必须要")


def asked_part(tracker: Tracker) -> str | None:
    """The form question the citizen is answering ("day", "name"...), if any."""
    requested = tracker.get_slot("requested_slot")
    return requested[len(PREFIX):] if requested and requested.startswith(PREFIX) else None


class ValidateAppointmentForm(Action):
    """Fills, checks and corrects the booking form's slots from each message.

    Returning no event rejects the form for this message, so the rules answer a
    question, hand over to a person or leave the form; returning the miss
    counter keeps the form asking, reworded.
    """

    def name(self) -> str:
        """Names the action."""
        return "validate_appointment_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Reads the message, updates the slots, and names the next question."""
        slots = {name: tracker.get_slot(name) for name in REQUIRED + TIME_SLOTS + [
            "appointment_service_name", "appointment_request_id"]}
        changes: dict[str, Any] = {}
        client = service_client()
        prompted = False
        if form_repair.reads_new_message(tracker, FORM):
            outcome = await self._read(dispatcher, tracker, client, slots)
            if outcome is None:
                return []
            changes, prompted, understood_something = outcome
            missed = form_repair.count_miss(tracker, "appointment", understood_something)
        else:
            missed = form_repair.misses(tracker, "appointment")
            current = tracker.get_slot("current_service")
            if not slots["appointment_service"] and current:
                # Back from an FAQ answer about a service: that is the service to book.
                changes.update(await self._service(dispatcher, client, current, asked=False) or {})
        slots.update(changes)
        events = [SlotSet(name, value) for name, value in changes.items()]
        events += [SlotSet("appointment_misses", missed), SlotSet("appointment_prompted", prompted)]
        return events + [SlotSet("requested_slot", self._next(slots))]

    @staticmethod
    def _next(slots: dict[str, Any]) -> str | None:
        for name in REQUIRED:
            if name == "appointment_id_number":
                continue
            if slots.get(name) is None:
                return name
        return None

    async def _read(self, dispatcher: CollectingDispatcher, tracker: Tracker, client: ServiceClient,
                    slots: dict[str, Any]) -> tuple[dict[str, Any], bool, bool] | None:
        """Applies one message; None when the form should let the rules answer it instead."""
        intent = form_repair.latest_intent(tracker)
        text = form_repair.latest_text(tracker)
        asked = asked_part(tracker)
        if not text:
            return None
        if text.startswith("/"):
            # A button's payload carries its intent (确认 / 修改 / 不约了), not words to read.
            understood = {"found": [], "is_question": False, "correction": False, "correction_target": None,
                          "skip": False, "mobile_typed": None, "when_problem": None}
        else:
            try:
                understood = await client.post(f"{API}/understand", json={
                    "text": text[:1000], "asked": asked, "day": slots["appointment_day"],
                    "start": slots["appointment_start"]})
            except (ServiceUnavailable, ServiceError):
                dispatcher.utter_message(response="utter_service_busy")
                return {}, True, True
        found = set(understood["found"])
        if form_repair.wants_person(tracker, bool(found)):
            return None
        if intent in form_repair.LEAVING_INTENTS and not found:
            return None
        if asked == "mobile" and not found and WHY_ASKED.search(text):
            # "为什么要手机号？": the clerk says what the number is for, and asks for it again in those words.
            dispatcher.utter_message(response="utter_appointment_mobile_required")
            return {}, True, True
        # A question (要带什么材料？) is a digression: the FAQ answers it, the form asks again afterwards.
        # Not a digression: the request that opens the form ("上个户口 能约吗") and, when the day is
        # asked, a wish for the earliest one ("最早什么时候能约").
        opening_request = asked is None and intent == "book_appointment"
        earliest_wanted = asked in ("day", "start") and bool(understood.get("any_time"))
        if asked != "confirmed" and not understood["correction"] and not opening_request and not earliest_wanted \
                and (understood["is_question"] or intent == "faq") and (
                not (found - {"service"}) or understood["is_question"] and intent == "faq"):
            # "你们周六上班吗" names a day but asks about the hours: the FAQ answers, the form asks on.
            return None
        if asked is None and "service" not in found and not slots["appointment_service"] and \
                tracker.get_slot("current_service"):
            # "那帮我约一下吧" after an FAQ answer: the service asked about is the one to book.
            understood = {**understood, "service_id": tracker.get_slot("current_service")}
            found.add("service")
        changes: dict[str, Any] = {}
        prompted = False
        if understood["correction"] and understood["correction_target"] and \
                understood["correction_target"] not in found:
            # "名字写错了" without the right one: forget the wrong value, the form asks for it again.
            changes.update(self._forget(understood["correction_target"]))
        if "service" in found and understood["service_id"] != slots["appointment_service"]:
            # An unbookable service said at the start or when asked is explained at once.
            service = await self._service(dispatcher, client, understood["service_id"], asked=asked in (None, "service"),
                                          label=understood.get("service_name"))
            if service is None:
                prompted = asked in (None, "service")
            else:
                changes.update(service)
                if slots["appointment_day"]:
                    # Another service has other windows: the chosen time is checked again.
                    changes.update({"appointment_start": None, "appointment_label": None})
                    if slots["appointment_start"] and "when" not in found:
                        # "不是港澳通行证，是护照" at the read-back: the same time, if that window has it free.
                        understood = {**understood, "day": slots["appointment_day"],
                                      "start": slots["appointment_start"], "part": slots.get("appointment_part"),
                                      "day_given": True, "when_problem": None, "any_time": False}
                        found.add("when")
        service_id = changes.get("appointment_service") or slots["appointment_service"]
        if "when" in found or (understood["when_problem"] and asked in ("day", "start")):
            if service_id:
                chosen, said = await self._time(dispatcher, client, service_id, understood,
                                                {**slots, **changes}, asked)
                changes.update(chosen)
                prompted = prompted or said
            elif understood["day"]:
                # No service yet: keep the day and part, the time is checked once the service is known.
                changes.update({"appointment_day": understood["day"], "appointment_part": understood["part"]})
        merged = {**slots, **changes}
        if asked == "start" and "when" not in found and found and service_id and merged.get("appointment_day") \
                and not merged.get("appointment_start"):
            # The time was asked and the citizen went on with something else ("马丽"): the clerk holds the
            # first free time that day, says so, and goes on; it can still be changed at the read-back.
            earliest = {**understood, "day": merged["appointment_day"], "day_given": False, "start": None,
                        "part": merged.get("appointment_part"), "any_time": True, "when_problem": None}
            chosen, said = await self._time(dispatcher, client, service_id, earliest, merged, "name")
            changes.update(chosen)
            prompted = prompted or said
        if "name" in found:
            changes["appointment_name"] = understood["name"]
        if "mobile" in found:
            changes["appointment_mobile"] = understood["mobile"]
        elif asked == "mobile" and understood["mobile_typed"]:
            dispatcher.utter_message(response="utter_appointment_mobile_invalid_ask")
            prompted = True
        elif asked == "mobile" and understood["skip"]:
            dispatcher.utter_message(response="utter_appointment_mobile_required")
            prompted = True
        if "id_number" in found:
            checked = await self._id_number(client, understood["id_number"])
            changes["appointment_id_number"] = checked
            if checked is None and asked == "id_number":
                dispatcher.utter_message(response="utter_appointment_id_number_invalid")

        if asked == "confirmed":
            details_changed = any(name in changes for name in (
                "appointment_service", "appointment_day", "appointment_start", "appointment_name",
                "appointment_mobile"))
            if details_changed:
                # A new summary is shown and confirmed again; a new confirmation books anew.
                changes.update({"appointment_confirmed": None, "appointment_request_id": None})
            elif understood["correction"] and not understood["correction_target"] or intent == "deny":
                dispatcher.utter_message(response="utter_appointment_what_to_change")
                return changes, True, True
            elif form_repair.confirms(tracker):
                changes["appointment_confirmed"] = True
        # "对" / "没问题" to the time just proposed, while the name is asked: no answer, but no miss either.
        agreed = asked not in (None, "confirmed") and not found and form_repair.confirms(tracker)
        understood_something = bool(changes) or prompted or agreed
        return changes, prompted, understood_something

    @staticmethod
    def _forget(target: str) -> dict[str, Any]:
        """The slots a correction without a new value empties."""
        return {"when": {name: None for name in TIME_SLOTS},
                "mobile": {"appointment_mobile": None}, "name": {"appointment_name": None},
                "service": {"appointment_service": None, "appointment_service_name": None,
                            "appointment_start": None, "appointment_label": None}}[target] | {
            "appointment_confirmed": None, "appointment_request_id": None}

    @staticmethod
    async def _service(dispatcher: CollectingDispatcher, client: ServiceClient, words: str,
                       asked: bool, label: str | None = None) -> dict[str, Any] | None:
        """The bookable service the words name; says why not when the citizen was asked for it."""
        try:
            found = await client.post(f"{API}/services/resolve", json={"text": str(words)[:64]})
        except (ServiceUnavailable, ServiceError):
            return None
        if not found["service_id"]:
            if asked:
                dispatcher.utter_message(response="utter_appointment_service_unknown", value=(label or str(words))[:20])
            return None
        # The service being booked is also the one FAQ questions mid-form are about ("要带什么材料？").
        return {"appointment_service": found["service_id"], "appointment_service_name": found["service_name"],
                "current_service": found["service_id"]}

    @staticmethod
    async def _id_number(client: ServiceClient, number: str) -> str | None:
        try:
            checked = await client.post(f"{API}/contact/check", json={"id_number": number[:32]})
        except (ServiceUnavailable, ServiceError):
            return None
        return number if checked["id_number_ok"] else None

    @staticmethod
    async def _time(dispatcher: CollectingDispatcher, client: ServiceClient, service_id: str,
                    understood: dict[str, Any], slots: dict[str, Any], asked: str | None
                    ) -> tuple[dict[str, Any], bool]:
        """Turns what was said about the time into a free slot; (slot changes, whether a question was asked)."""
        if understood["when_problem"]:
            if asked in (None, "day", "start", "confirmed"):
                dispatcher.utter_message(response="utter_appointment_when_problem", reason=understood["when_message"])
                return {}, True
            return {}, False
        day = understood["day"] if understood["day_given"] or not slots["appointment_day"] else slots["appointment_day"]
        part = understood["part"] or (None if understood["day_given"] else slots.get("appointment_part"))
        if asked == "confirmed" and understood["day_given"] and not understood["start"] and not understood["part"] \
                and not understood["any_time"] and slots.get("appointment_start"):
            # "换成下周一" at the read-back moves the day only: the same time, if it is free then.
            understood = {**understood, "start": slots["appointment_start"]}
            part = slots.get("appointment_part")
        query = {"service_id": service_id, "day": day, "start": understood["start"], "part": part}
        try:
            answer = await client.post(f"{API}/availability", json=query)
        except (ServiceUnavailable, ServiceError):
            dispatcher.utter_message(response="utter_service_busy")
            return {}, True
        if answer["available"] and asked != "confirmed" and understood["day_given"] and not understood["start"] \
                and not part and not understood["any_time"] and answer["slots"] and not slots.get("appointment_start"):
            # "24号": a day alone; the clerk asks what time suits on it (the next question offers its slots).
            return {"appointment_day": answer["day"], "appointment_part": None, "appointment_start": None,
                    "appointment_label": None}, False
        if answer["available"]:
            slot = next((s for s in answer["slots"] if s["start"] == understood["start"]), None) \
                if understood["start"] else (answer["slots"][0] if answer["slots"] else None)
            if slot is None:
                return {"appointment_day": answer["day"], "appointment_part": part}, False
            chosen = {"appointment_day": slot["day"], "appointment_start": slot["start"],
                      "appointment_label": slot["label"], "appointment_part": part}
            if asked != "confirmed":
                # The chosen time is said at once, so a citizen who named only a part of the day
                # (or a time the next question does not repeat) knows what is held.
                dispatcher.utter_message(response="utter_appointment_slot_chosen", slot_label=slot["label"],
                                         notice=answer.get("notice") or "",
                                         service_name=slots.get("appointment_service_name") or "")
            return chosen, False
        alternatives = answer.get("alternatives") or []
        if (understood["any_time"] or not understood["start"]) and alternatives:
            # "下午" / "都行" on a full or closed day: the nearest free slot, said so the citizen can change it.
            slot = alternatives[0]
            dispatcher.utter_message(response="utter_appointment_slot_instead", reason=answer.get("reason") or "",
                                     slot_label=slot["label"], notice=answer.get("notice") or "",
                                     service_name=slots.get("appointment_service_name") or "")
            return {"appointment_day": slot["day"], "appointment_start": slot["start"],
                    "appointment_label": slot["label"], "appointment_part": part}, False
        if alternatives:
            dispatcher.utter_message(response="utter_appointment_alternatives_ask", reason=answer.get("reason") or "",
                                     buttons=[slot_button(slot) for slot in alternatives])
        else:
            dispatcher.utter_message(response="utter_appointment_no_alternatives_ask",
                                     reason=answer.get("reason") or "")
        if understood["start"] and day:
            # "明天中午12点半" falls in the lunch break: the day stands, a time on it is what is missing.
            return {"appointment_day": day, "appointment_part": part, "appointment_start": None,
                    "appointment_label": None}, True
        return {"appointment_start": None, "appointment_label": None}, True


class ActionAskAppointmentService(Action):
    """Asks which service to book."""

    def name(self) -> str:
        """Names the action."""
        return "action_ask_appointment_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Asks, rephrases or offers a person."""
        return form_repair.ask(dispatcher, tracker, "appointment", "utter_ask_appointment_service")


class ActionAskAppointmentDay(Action):
    """Asks for the day (and time)."""

    def name(self) -> str:
        """Names the action."""
        return "action_ask_appointment_day"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Asks, rephrases or offers a person."""
        return form_repair.ask(dispatcher, tracker, "appointment", "utter_ask_appointment_day",
                               service_name=tracker.get_slot("appointment_service_name") or "")


class ActionAskAppointmentStart(Action):
    """Asks for the time by offering the chosen day's free slots as buttons; a typed time works as well."""

    def name(self) -> str:
        """Names the action."""
        return "action_ask_appointment_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Fetches the day's free slots and lists them."""
        if tracker.get_slot("appointment_prompted") or form_repair.misses(tracker, "appointment") >= 2:
            return form_repair.ask(dispatcher, tracker, "appointment", "utter_ask_appointment_start")
        query = {"service_id": tracker.get_slot("appointment_service"), "day": tracker.get_slot("appointment_day"),
                 "part": tracker.get_slot("appointment_part")}
        try:
            answer = await service_client().post(f"{API}/availability", json={k: v for k, v in query.items() if v})
        except (ServiceUnavailable, ServiceError):
            dispatcher.utter_message(response="utter_service_busy")
            return []
        slots = answer["slots"] or answer.get("alternatives") or []
        response = "utter_appointment_pick_start"
        if response in form_repair.last_bot_responses(tracker) or form_repair.misses(tracker, "appointment"):
            response = "utter_appointment_pick_start_again"
        dispatcher.utter_message(response=response, day_label=answer["day_label"],
                                 buttons=[slot_button(slot) for slot in slots[:MAX_SLOT_BUTTONS]])
        return []


class ActionAskAppointmentName(Action):
    """Asks for the name."""

    def name(self) -> str:
        """Names the action."""
        return "action_ask_appointment_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Asks, rephrases or offers a person."""
        return form_repair.ask(dispatcher, tracker, "appointment", "utter_ask_appointment_name")


class ActionAskAppointmentMobile(Action):
    """Asks for the mobile number."""

    def name(self) -> str:
        """Names the action."""
        return "action_ask_appointment_mobile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Asks, rephrases or offers a person."""
        return form_repair.ask(dispatcher, tracker, "appointment", "utter_ask_appointment_mobile")


class ActionAskAppointmentConfirmed(Action):
    """Shows the summary to confirm, and fixes the key that makes the confirmation idempotent."""

    def name(self) -> str:
        """Names the action."""
        return "action_ask_appointment_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Sends the summary with confirm / change / leave buttons."""
        mobile = tracker.get_slot("appointment_mobile") or ""
        summary = {"service_name": tracker.get_slot("appointment_service_name") or tracker.get_slot(
            "appointment_service"), "slot_label": tracker.get_slot("appointment_label"),
            "name": tracker.get_slot("appointment_name"), "mobile_masked": f"{mobile[:3]}****{mobile[-4:]}"}
        # A summary after a correction (the confirmation key was dropped) shows new details: it is no repeat.
        fresh = not tracker.get_slot("appointment_request_id")
        events = form_repair.ask(dispatcher, tracker, "appointment", "utter_ask_appointment_confirmed", fresh=fresh,
                                 **summary)
        if not fresh:
            return events
        return [*events, SlotSet("appointment_request_id", uuid.uuid4().hex)]
