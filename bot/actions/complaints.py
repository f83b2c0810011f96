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

from bot.actions.service_client import ServiceClient, ServiceError, ServiceUnavailable

MOBILE = re.compile(r"1[3-9]\d{9}")
TICKET = re.compile(r"TS\d{8}-\d{4,6}", re.IGNORECASE)
FOUR_DIGITS = re.compile(r"^\D*(\d{4})\D*$")
# Words that mean "no contact" / "skip this question" in a citizen's reply.
ANONYMOUS_WORDS = ("匿名", "不留", "不方便", "不想留")
SKIP_WORDS = ("跳过", "不清楚", "不记得", "没有", "无", "不知道")
# Fallback when the emotion classifier is not in the pipeline: words of anger in a complaint.
ANGER_WORDS = ("气死", "太过分", "欺负人", "什么态度", "忍无可忍", "投诉到底", "受够", "混蛋", "垃圾", "岂有此理",
               "愤怒", "火大", "恶心")
# The words that only say "I want to complain"; anything longer is taken as the description.
TRIGGER_WORDS = ("我要投诉", "我想投诉", "投诉一下", "要投诉", "投诉", "我要举报", "举报", "我要反映", "反映个问题",
                 "反映", "意见", "差评")
COMPLAINT_SLOTS = ("complaint_description", "complaint_category_guess", "complaint_category",
                   "complaint_category_label", "complaint_location", "complaint_contact", "complaint_contact_label",
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


def substance(text: str) -> str:
    """Returns what the citizen said beyond the words that only ask to complain."""
    rest = text
    for word in TRIGGER_WORDS:
        rest = rest.replace(word, "")
    return rest.strip(" ，,。.！!？?：:")


async def classify(text: str) -> Dict[Text, Any]:
    """Asks the service for the category the words suggest."""
    return await client().post("/internal/complaints/classify", json={"text": text[:4000]})


async def category_labels() -> Dict[Text, Text]:
    """Returns category ids mapped to their Chinese labels."""
    rows = await client().get("/internal/complaints/categories")
    return {row["category"]: row["label"] for row in rows}


class ActionStartComplaint(Action):
    """Opens the complaint: empathy first for an upset citizen, and the first message kept as the description."""

    def name(self) -> Text:
        return "action_start_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_complaint_empathy" if is_upset(tracker) else "utter_complaint_start")
        events: List[EventType] = [SlotSet(slot, None) for slot in COMPLAINT_SLOTS]
        text = (tracker.latest_message or {}).get("text") or ""
        if len(substance(text)) >= 6:
            events.append(SlotSet("complaint_description", text))
            try:
                guess = await classify(text)
                events += [SlotSet("complaint_category_guess", guess["category"]),
                           SlotSet("complaint_category_label", guess["label"])]
            except (ServiceError, ServiceUnavailable):
                pass
        return events


class ValidateComplaintForm(FormValidationAction):
    """Checks each answer of the complaint form."""

    def name(self) -> Text:
        return "validate_complaint_form"

    async def validate_complaint_description(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                             domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if len(text) < 5 or len(text) > 2000:
            dispatcher.utter_message(response="utter_complaint_description_invalid")
            return {"complaint_description": None}
        slots: Dict[Text, Any] = {"complaint_description": text}
        if not tracker.get_slot("complaint_category_guess"):
            try:
                guess = await classify(text)
                slots.update(complaint_category_guess=guess["category"], complaint_category_label=guess["label"])
            except (ServiceError, ServiceUnavailable):
                slots.update(complaint_category_guess="other", complaint_category_label="其他")
        return slots

    async def validate_complaint_category(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> Dict[Text, Any]:
        chosen = str(value or "").strip()
        if chosen == "guess":
            chosen = tracker.get_slot("complaint_category_guess") or "other"
        try:
            labels = await category_labels()
            if chosen not in labels:
                by_label = {label: key for key, label in labels.items()}
                guess = await classify(chosen) if chosen not in by_label else {"category": by_label[chosen], "score": 1}
                chosen = guess["category"] if guess.get("score") else ""
        except (ServiceError, ServiceUnavailable):
            labels = {}
        if chosen not in labels:
            dispatcher.utter_message(response="utter_complaint_category_invalid")
            return {"complaint_category": None}
        return {"complaint_category": chosen, "complaint_category_label": labels[chosen]}

    async def validate_complaint_location(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()[:200]
        if not text or any(text.startswith(word) for word in SKIP_WORDS):
            return {"complaint_location": "未提供"}
        return {"complaint_location": text}

    async def validate_complaint_contact(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if any(word in text for word in ANONYMOUS_WORDS):
            return {"complaint_contact": "anonymous", "complaint_contact_label": "匿名"}
        found = MOBILE.search(text.replace(" ", "").replace("-", ""))
        if not found:
            dispatcher.utter_message(response="utter_complaint_contact_invalid")
            return {"complaint_contact": None}
        mobile = found.group(0)
        return {"complaint_contact": mobile, "complaint_contact_label": f"{mobile[:3]}****{mobile[-4:]}"}


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
        return reset


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
        return events


class ValidateComplaintLookupForm(FormValidationAction):
    """Checks the ticket number and the four digits; asks for the extra information when adding to a ticket."""

    def name(self) -> Text:
        return "validate_complaint_lookup_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        if tracker.get_slot("complaint_request") == "add_info":
            return domain_slots
        return [slot for slot in domain_slots if slot != "complaint_extra_info"]

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
