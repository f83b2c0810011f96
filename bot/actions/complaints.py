"""Complaint actions: start with empathy when needed, validate the form, file, and work existing tickets.

Thin adapters: categories, ticket numbers, deadlines and statuses come from
the service's /internal/complaints API; every word the citizen reads is a
domain response or a text the service rendered.
"""

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions import form_repair
from bot.actions.service_client import ServiceClient, ServiceError, ServiceUnavailable

TICKET = re.compile(r"TS\d{8}-\d{4,6}", re.IGNORECASE)
# The four digits that prove a ticket is the citizen's, said with the number ("手机尾号5678", "查询码1234").
VERIFICATION = re.compile(r"(?:尾号|后四位|后4位|末四位|查询码|验证码)\s*(?:是|为|：|:)?\s*(\d{4})(?!\d)")
FOUR_DIGITS = re.compile(r"^\D*(\d{4})\D*$")
# A question about how long a complaint takes, answered with the service standard mid-form.
STANDARD_QUESTION = re.compile(r"多久|多长时间|几天|什么时候.{0,6}(结果|答复|回复|处理|回音)|时限|要等")
# Fallback when the emotion classifier is not in the pipeline: words of anger in a complaint.
ANGER_WORDS = ("气死", "太过分", "欺负人", "什么态度", "忍无可忍", "投诉到底", "受够", "混蛋", "垃圾", "岂有此理",
               "愤怒", "火大", "恶心")
COMPLAINT_SLOTS = ("complaint_description", "complaint_category",
                   "complaint_category_label", "complaint_location", "complaint_contact", "complaint_contact_label",
                   "complaint_confirmed", "complaint_misses", "complaint_prompted")
# The complaint form's questions, in the order they are asked.
FORM_SLOTS = ("complaint_description", "complaint_category", "complaint_location", "complaint_contact",
              "complaint_confirmed")
LOOKUP_SLOTS = ("complaint_request", "complaint_ticket_number", "complaint_verification", "complaint_extra_info")


def client() -> ServiceClient:
    """Returns the service client (tests point SERVICE_URL at a running test service)."""
    return ServiceClient()


def is_upset(tracker: Tracker) -> bool:
    """Tells whether the latest message is angry or distressed (classifier first, anger words as fallback)."""
    message = tracker.latest_message or {}
    label = (message.get("emotion") or {}).get("label")
    if label in ("angry", "distressed"):
        return True
    text = message.get("text") or ""
    return any(word in text for word in ANGER_WORDS) or text.count("！") + text.count("!") >= 2


# Intents of another task the citizen may turn to in the middle of a complaint (a rule leaves the form for it).
OTHER_TASKS = frozenset({"book_appointment"})


class ActionStartComplaint(Action):
    """Opens the complaint with empathy for an upset citizen; the form then reads the opening message itself."""

    def name(self) -> Text:
        return "action_start_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_complaint_empathy" if is_upset(tracker) else "utter_complaint_start")
        return [SlotSet(slot, None) for slot in COMPLAINT_SLOTS]


class ValidateComplaintForm(Action):
    """Fills, checks and corrects the complaint form's slots from each message (see bot/actions/form_repair.py).

    The service reads each message once (/internal/complaints/understand): what happened,
    where and when, a mobile or anonymity, and a category guess, in any order and all at
    once. Returning no event lets the rules answer a question, hand over or leave the form.
    """

    def name(self) -> Text:
        return "validate_complaint_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Reads the message, updates the slots, and names the next question."""
        slots = {name: tracker.get_slot(name) for name in COMPLAINT_SLOTS}
        missed = form_repair.misses(tracker, "complaint")
        prompted = False
        changes: Dict[Text, Any] = {}
        if form_repair.reads_new_message(tracker, "complaint_form", openers=("action_start_complaint",)):
            outcome = await self._read(dispatcher, tracker, slots)
            if outcome is None:
                return []
            changes, prompted = outcome
            missed = form_repair.count_miss(tracker, "complaint", bool(changes) or prompted)
        slots.update(changes)
        events: List[EventType] = [SlotSet(name, value) for name, value in changes.items()]
        events += [SlotSet("complaint_misses", missed), SlotSet("complaint_prompted", prompted)]
        following = next((name for name in FORM_SLOTS if slots.get(name) is None), None)
        return events + [SlotSet("requested_slot", following)]

    async def _read(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                    slots: Dict[Text, Any]) -> Optional[tuple]:
        intent = form_repair.latest_intent(tracker)
        text = form_repair.latest_text(tracker)
        requested = tracker.get_slot("requested_slot") or ""
        asked = requested[len("complaint_"):] if requested.startswith("complaint_") else None
        if not text:
            return None
        if intent in OTHER_TASKS and asked != "description":
            # "不用转人工，你直接帮我约…": the citizen turns to another task; the rules leave the form for it.
            return None
        # What the form holds already: a detail added later is appended to it by the service.
        request = {"text": text[:4000], "asked": asked, "known_description": slots.get("complaint_description"),
                   "known_location": (slots.get("complaint_location") or "")[:400] or None}
        try:
            # A button's payload (/affirm, /deny) is read by its intent, not as words.
            understood = {"found": [], "is_question": False, "correction": False, "correction_target": None,
                          "skip": False, "mobile": None, "anonymous": False, "mobile_typed": None} \
                if text.startswith("/") else await client().post("/internal/complaints/understand", json=request)
        except (ServiceError, ServiceUnavailable):
            dispatcher.utter_message(response="utter_complaint_service_down")
            return {}, True
        found = set(understood["found"])
        if form_repair.wants_person(tracker, bool(found)):
            return None
        if intent in form_repair.LEAVING_INTENTS and not found:
            return None
        if understood["is_question"] and not found and STANDARD_QUESTION.search(text):
            # "多久能有结果？": the clerk knows the service standard and says it, then asks on.
            dispatcher.utter_message(response="utter_complaint_service_standard")
            return {}, False
        if (understood["is_question"] or intent == "faq") and not found and not understood["skip"] \
                and asked != "confirmed":
            return None
        changes: Dict[Text, Any] = {}
        prompted = False
        target = understood["correction_target"]
        if understood["correction"] and target and target not in found:
            changes.update({f"complaint_{target}": None, "complaint_confirmed": None})
            if target == "category":
                changes["complaint_category_label"] = None
        if "description" in found:
            changes["complaint_description"] = understood["description"]
            if understood["category"] and (slots["complaint_category"] is None or asked == "description"):
                changes.update(complaint_category=understood["category"],
                               complaint_category_label=understood["category_label"])
        elif "category" in found:
            changes.update(complaint_category=understood["category"],
                           complaint_category_label=understood["category_label"])
        if "location" in found:
            changes["complaint_location"] = understood["location"]
        elif asked == "location" and understood["skip"]:
            changes["complaint_location"] = "未提供"
        if understood["mobile"]:
            mobile = understood["mobile"]
            changes.update(complaint_contact=mobile, complaint_contact_label=f"{mobile[:3]}****{mobile[-4:]}")
        elif understood["anonymous"]:
            changes.update(complaint_contact="anonymous", complaint_contact_label="匿名")
        elif asked == "contact" and understood["mobile_typed"]:
            dispatcher.utter_message(response="utter_complaint_contact_invalid")
            prompted = True
        if asked == "confirmed":
            if any(name in changes for name in FORM_SLOTS):
                changes["complaint_confirmed"] = None
            elif understood["correction"] and not target or intent == "deny":
                dispatcher.utter_message(response="utter_complaint_what_to_change")
                return changes, True
            elif form_repair.confirms(tracker):
                changes["complaint_confirmed"] = True
        return changes, prompted


class ActionAskComplaintDescription(Action):
    """Asks what happened."""

    def name(self) -> Text:
        return "action_ask_complaint_description"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return form_repair.ask(dispatcher, tracker, "complaint", "utter_ask_complaint_description")


class ActionAskComplaintCategory(Action):
    """Asks which kind of problem it is, with a button per category."""

    def name(self) -> Text:
        return "action_ask_complaint_category"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return form_repair.ask(dispatcher, tracker, "complaint", "utter_ask_complaint_category")


class ActionAskComplaintLocation(Action):
    """Asks where and when it happened."""

    def name(self) -> Text:
        return "action_ask_complaint_location"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return form_repair.ask(dispatcher, tracker, "complaint", "utter_ask_complaint_location")


class ActionAskComplaintContact(Action):
    """Asks for a mobile, or anonymity."""

    def name(self) -> Text:
        return "action_ask_complaint_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return form_repair.ask(dispatcher, tracker, "complaint", "utter_ask_complaint_contact")


class ActionAskComplaintConfirmed(Action):
    """Shows the complaint to confirm."""

    def name(self) -> Text:
        return "action_ask_complaint_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        values = {name: tracker.get_slot(name) or "" for name in (
            "complaint_category_label", "complaint_description", "complaint_location", "complaint_contact_label")}
        return form_repair.ask(dispatcher, tracker, "complaint", "utter_ask_complaint_confirmed", **values)


class ActionSubmitComplaint(Action):
    """Files the confirmed complaint and tells the citizen the number and both deadlines."""

    def name(self) -> Text:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reset: List[EventType] = [SlotSet(slot, None) for slot in COMPLAINT_SLOTS]
        if tracker.get_slot("complaint_confirmed") is not True:
            dispatcher.utter_message(response="utter_complaint_cancelled")
            return reset
        contact = tracker.get_slot("complaint_contact")
        location = tracker.get_slot("complaint_location")
        body = {
            "category": tracker.get_slot("complaint_category") or "other",
            "description": tracker.get_slot("complaint_description") or "",
            "location": None if location in (None, "未提供") else location,
            "mobile": None if contact in (None, "anonymous") else contact,
            "anonymous": contact == "anonymous",
            "conversation_id": tracker.sender_id[:64],
        }
        try:
            filed = await client().post("/internal/complaints", json=body)
        except (ServiceError, ServiceUnavailable):
            dispatcher.utter_message(response="utter_complaint_service_down")
            return reset
        if filed.get("lookup_code"):
            dispatcher.utter_message(response="utter_complaint_filed_anonymous", number=filed["number"],
                                     code=filed["lookup_code"], deadlines=filed["deadlines_text"])
        else:
            dispatcher.utter_message(response="utter_complaint_filed", number=filed["number"],
                                     deadlines=filed["deadlines_text"])
        if filed.get("is_repeat"):
            dispatcher.utter_message(response="utter_complaint_repeat_noted")
        return [*reset, SlotSet("complaint_filed_number", filed["number"])]


class ActionStartComplaintLookup(Action):
    """Remembers whether the citizen checks, adds to, or withdraws a ticket."""

    def name(self) -> Text:
        return "action_start_complaint_lookup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        request = {"add_complaint_info": "add_info", "withdraw_complaint": "withdraw"}.get(intent or "", "check")
        events: List[EventType] = [SlotSet("complaint_request", request), SlotSet("complaint_verification", None),
                                   SlotSet("complaint_extra_info", None)]
        text = (tracker.latest_message or {}).get("text") or ""
        found = TICKET.search(text)
        events.append(SlotSet("complaint_ticket_number", found.group(0).upper() if found else None))
        digits = VERIFICATION.search(text)
        if found and digits:
            # Number and digits in one message: nothing left to ask.
            events[1] = SlotSet("complaint_verification", digits.group(1))
        return events


class ValidateComplaintLookupForm(FormValidationAction):
    """Checks the ticket number and the four digits; asks for the extra information when adding to a ticket."""

    def name(self) -> Text:
        return "validate_complaint_lookup_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        slots = domain_slots if tracker.get_slot("complaint_request") == "add_info" else \
            [slot for slot in domain_slots if slot != "complaint_extra_info"]
        number, filed = tracker.get_slot("complaint_ticket_number"), tracker.get_slot("complaint_filed_number")
        if number and filed and str(number).upper() == str(filed).upper():
            # The ticket was filed in this conversation: the service knows it is theirs.
            slots = [slot for slot in slots if slot != "complaint_verification"]
        return slots

    async def validate_complaint_ticket_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                               domain: DomainDict) -> Dict[Text, Any]:
        found = TICKET.search(str(value or ""))
        if not found:
            dispatcher.utter_message(response="utter_complaint_ticket_number_invalid")
            return {"complaint_ticket_number": None}
        return {"complaint_ticket_number": found.group(0).upper()}

    async def validate_complaint_verification(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                              domain: DomainDict) -> Dict[Text, Any]:
        found = FOUR_DIGITS.match(str(value or "").strip())
        if not found:
            dispatcher.utter_message(response="utter_complaint_verification_invalid")
            return {"complaint_verification": None}
        return {"complaint_verification": found.group(1)}

    async def validate_complaint_extra_info(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                            domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if not text or len(text) > 2000:
            dispatcher.utter_message(response="utter_complaint_description_invalid")
            return {"complaint_extra_info": None}
        return {"complaint_extra_info": text}


class ActionComplaintFollowup(Action):
    """Looks up, adds to or withdraws the ticket, answering wrong guesses without revealing anything."""

    def name(self) -> Text:
        return "action_complaint_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        request = tracker.get_slot("complaint_request") or "check"
        body: Dict[Text, Any] = {"ticket_number": tracker.get_slot("complaint_ticket_number") or "",
                                 "verification": tracker.get_slot("complaint_verification"),
                                 "requester": tracker.sender_id[:128]}
        path = {"check": "/internal/complaints/lookup", "add_info": "/internal/complaints/info",
                "withdraw": "/internal/complaints/withdraw"}[request]
        if request == "add_info":
            body["text"] = tracker.get_slot("complaint_extra_info") or ""
        reset: List[EventType] = [SlotSet(slot, None) for slot in LOOKUP_SLOTS]
        try:
            status: Optional[Dict[Text, Any]] = await client().post(path, json=body)
        except ServiceError as error:
            response = {404: "utter_complaint_lookup_failed", 429: "utter_complaint_lookup_locked",
                        409: "utter_complaint_not_open"}.get(error.status, "utter_complaint_service_down")
            dispatcher.utter_message(response=response)
            return reset
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_complaint_service_down")
            return reset
        number = (status or {}).get("number", body["ticket_number"])
        if request == "add_info":
            dispatcher.utter_message(response="utter_complaint_info_added", number=number)
        elif request == "withdraw":
            dispatcher.utter_message(response="utter_complaint_withdrawn", number=number)
        else:
            dispatcher.utter_message(text=(status or {}).get("summary", ""))
        return reset
