"""FAQ actions: relay the citizen's words to the service and show what it answers.

The service (``POST /internal/faq/answer``) matches the question, renders the
answer from the knowledge base, asks which entry was meant when unsure, and
offers a person after two misses in a row. The actions keep the conversation's
state: the service talked about (``current_service``, which booking reads) and
the misses in a row (``faq_miss_count``).
"""

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import last_bot_text, previous_turn_bot_texts
from bot.actions.service_client import ServiceClient, ServiceError, ServiceUnavailable

logger = logging.getLogger(__name__)

ANSWER_PATH = "/internal/faq/answer"
MAX_TEXT_CHARS = 2000


def chosen_entry(tracker: Tracker) -> Optional[str]:
    """The entry a candidate button picked (the faq_entry entity of faq_choose)."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "faq_entry" and entity.get("value"):
            return str(entity["value"])[:80]
    return None


def miss_count(tracker: Tracker) -> int:
    """Misses in a row so far."""
    value = tracker.get_slot("faq_miss_count")
    return int(value) if isinstance(value, (int, float)) and value >= 0 else 0


def question_body(tracker: Tracker) -> Dict[str, Any]:
    """What the service needs to answer the latest message in context."""
    latest = tracker.latest_message or {}
    return {
        "conversation_id": (tracker.sender_id or "")[:64] or None,
        "text": (latest.get("text") or "")[:MAX_TEXT_CHARS],
        "current_service": tracker.get_slot("current_service"),
        "miss_count": miss_count(tracker),
        "entry_id": chosen_entry(tracker),
    }


def reply_events(reply: Dict[str, Any]) -> List[EventType]:
    """Slots to remember from the service's reply."""
    events: List[EventType] = [SlotSet("faq_miss_count", float(reply.get("miss_count") or 0))]
    if reply.get("service"):
        events.append(SlotSet("current_service", reply["service"]))
    if reply.get("status") == "answered" and reply.get("entry_id"):
        events.append(SlotSet("faq_last_entry", reply["entry_id"]))
    return events


class FaqReplyAction(Action, ABC):
    """Shared part of the FAQ actions: one call to the service, one message back."""

    def __init__(self, client: Optional[ServiceClient] = None) -> None:
        # The action server builds actions without arguments: the client then
        # reads SERVICE_URL and INTERNAL_API_TOKEN from the environment.
        self._client = client

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    def client(self) -> ServiceClient:
        """The service client."""
        return self._client or ServiceClient()

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Dict[str, Any]]:
        """The service's reply, or None after telling the citizen the service is unavailable."""
        try:
            reply = await self.client().post(ANSWER_PATH, json=question_body(tracker))
        except (ServiceUnavailable, ServiceError) as exc:
            logger.warning("FAQ answer failed: %s", exc)
            dispatcher.utter_message(response="utter_service_busy")
            return None
        return reply if isinstance(reply, dict) and reply.get("text") else None

    @staticmethod
    def show(dispatcher: CollectingDispatcher, reply: Dict[str, Any], tracker: Tracker,
             domain: Dict[str, Any]) -> None:
        """Sends the reply's text with its buttons; an answer just given is introduced as such."""
        text = reply["text"]
        if text == last_bot_text(tracker) or text in previous_turn_bot_texts(tracker):
            same = ((domain or {}).get("responses") or {}).get("utter_faq_same_answer") or []
            if same:
                text = f"{same[0]['text']}\n{text}"
        dispatcher.utter_message(text=text, buttons=list(reply.get("buttons") or []))


class ActionAnswerFaq(FaqReplyAction):
    """Answers a question (or a picked candidate) from the knowledge base."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        """Shows the service's answer, clarifying question or offer of a person."""
        reply = await self.ask(dispatcher, tracker)
        if reply is None:
            return []
        self.show(dispatcher, reply, tracker, domain)
        return reply_events(reply)


class ActionClarify(FaqReplyAction):
    """When the NLU is unsure: the matcher's candidates as buttons, or a request to rephrase."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        """Shows candidates (or a confident answer); with none, asks the citizen to rephrase."""
        reply = await self.ask(dispatcher, tracker)
        if reply is None:
            return []
        if reply.get("status") == "unknown" and not reply.get("offer_human"):
            dispatcher.utter_message(response="utter_rephrase")
        else:
            self.show(dispatcher, reply, tracker, domain)
        return reply_events(reply)
