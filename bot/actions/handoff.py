"""Handoff to a person: the ticket with the whole context, and the rating after.

``action_handoff`` runs from the rules in ``bot/data/handoff/rules.yml``
(explicit request, anger or distress after an empathy line, urgent safety
after the emergency numbers, two misses answered by the FAQ's offer). It
decides the reason from the tracker, posts the context to
``POST /internal/handoff/tickets`` and tells the citizen what the service
answered (place in the queue and wait, or a callback outside agent hours).

The emotion policy (env ``HANDOFF_EMOTION_POLICY``): ``handoff`` (default)
queues an angry or distressed citizen at once; ``offer`` asks first with a
``/request_human`` button, whose click then queues the ticket as emotional.
"""

import logging
import os
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.service_client import ServiceClient, ServiceError, ServiceUnavailable

logger = logging.getLogger(__name__)

URGENT_INTENT = "urgent_help"
EMOTION_INTENTS = ("emotion_angry", "emotion_distressed")
EMOTIONAL_LABELS = ("angry", "distressed")
MISUNDERSTOOD_INTENTS = ("nlu_fallback", "out_of_scope")
# How many recent citizen turns an emotion or a miss still counts for.
RECENT_TURNS = 3
MAX_TURNS = 50
# "5分", "打4分", "给5星吧" carry no comment worth keeping.
MAX_BARE_RATING = 4
# Slots the agent has no use for.
HIDDEN_SLOTS = {"requested_slot", "session_started_metadata", "handoff_reason", "handoff_ticket_id", "rating"}
CHANNELS = ("web", "wechat", "api")
NOTES_FILE = Path(__file__).with_name("handoff_notes.zh.yml")


@lru_cache(maxsize=1)
def _notes() -> Dict[str, Any]:
    """The agent-facing wording of the signals, read once."""
    return yaml.safe_load(NOTES_FILE.read_text(encoding="utf-8"))


def _user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The citizen's messages of the conversation, oldest first."""
    return [event for event in tracker.events if event.get("event") == "user"]


def _emotion(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The emotion the NLU component attached to one message, if any."""
    emotion = (event.get("parse_data") or {}).get("emotion")
    return emotion if isinstance(emotion, dict) and emotion.get("label") else None


def _emotion_summary(emotion: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The label, score and per-class scores of an emotion, as the ticket takes them."""
    if not emotion:
        return None
    return {"label": emotion["label"], "score": float(emotion.get("score", 0.0)),
            "scores": {k: float(v) for k, v in (emotion.get("scores") or {}).items()}}


def _iso(timestamp: Any) -> Optional[str]:
    """An event timestamp (epoch seconds) as ISO 8601 in UTC."""
    if not isinstance(timestamp, (int, float)):
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def build_turns(tracker: Tracker) -> List[Dict[str, Any]]:
    """Each citizen turn with what the bot understood: text, intent, confidence, emotion, time."""
    turns = []
    for event in _user_events(tracker)[-MAX_TURNS:]:
        intent = (event.get("parse_data") or {}).get("intent") or {}
        confidence = intent.get("confidence")
        turns.append({
            "text": (event.get("text") or "")[:2000],
            "intent": intent.get("name"),
            "confidence": round(float(confidence), 4) if isinstance(confidence, (int, float)) else None,
            "emotion": _emotion_summary(_emotion(event)),
            "timestamp": _iso(event.get("timestamp")),
        })
    return turns


def handoff_signals(tracker: Tracker) -> Dict[str, Any]:
    """Tracker-level escalation signals: repeats, misses, profanity, the strongest recent emotion."""
    events = _user_events(tracker)
    recent = events[-RECENT_TURNS:]
    texts = [(event.get("text") or "").strip() for event in events]
    repeated = 1
    while texts and repeated < len(texts) and texts[-1 - repeated] == texts[-1] and texts[-1]:
        repeated += 1
    misses = 0
    for event in reversed(events):
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name not in MISUNDERSTOOD_INTENTS:
            break
        misses += 1
    slot_misses = tracker.get_slot("faq_miss_count")
    if isinstance(slot_misses, (int, float)):
        misses = max(misses, int(slot_misses))
    emotions = [emotion for emotion in map(_emotion, recent) if emotion]
    strongest = next((e for e in reversed(emotions) if e["label"] == "urgent"), None) or next(
        (e for e in reversed(emotions) if e["label"] in EMOTIONAL_LABELS), None)
    return {
        "repeated": repeated if repeated > 1 else 0,
        "misses": misses,
        "profanity": any(e.get("source") == "profanity" for e in emotions),
        "emotion": strongest or (_emotion(events[-1]) if events else None),
    }


def handoff_reason(tracker: Tracker, signals: Dict[str, Any]) -> str:
    """The trigger, by queue priority: urgent > emotional > explicit > complex."""
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    label = (signals["emotion"] or {}).get("label")
    if intent == URGENT_INTENT or label == "urgent":
        return "urgent"
    if intent in EMOTION_INTENTS or label in EMOTIONAL_LABELS or signals["profanity"]:
        return "emotional"
    typed = not (latest.get("text") or "").startswith("/")
    if intent == "request_human" and typed:
        return "explicit"
    if signals["misses"] >= 2 or signals["repeated"] >= 2 or intent in MISUNDERSTOOD_INTENTS:
        return "complex"
    return "explicit"


def handoff_note(signals: Dict[str, Any]) -> Optional[str]:
    """A short line for the agent listing the signals that were seen."""
    texts, names = _notes()["signals"], _notes()["emotions"]
    parts = []
    if signals["repeated"]:
        parts.append(texts["repeated"].format(count=signals["repeated"]))
    if signals["misses"]:
        parts.append(texts["misses"].format(count=signals["misses"]))
    if signals["profanity"]:
        parts.append(texts["profanity"])
    emotion = signals["emotion"]
    if emotion and emotion.get("label") != "neutral":
        parts.append(texts["emotion"].format(label=names.get(emotion["label"], emotion["label"]),
                                             score=float(emotion.get("score", 0.0))))
    return texts["separator"].join(parts) or None


def handoff_channel(tracker: Tracker) -> str:
    """The channel the router put in the message metadata (web, wechat or api)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    channel = metadata.get("channel") if isinstance(metadata, dict) else None
    return channel if channel in CHANNELS else "api"


def handoff_slots(tracker: Tracker) -> Dict[str, Any]:
    """The filled slots worth showing to the agent."""
    return {name: value for name, value in tracker.current_slot_values().items()
            if value is not None and name not in HIDDEN_SLOTS}


def rating_comment(tracker: Tracker) -> Optional[str]:
    """A rating typed in words ("4分，工作人员很耐心") keeps the words as the comment; a button has none."""
    text = ((tracker.latest_message or {}).get("text") or "").strip()
    if not text or text.startswith("/") or len(text) <= MAX_BARE_RATING:
        return None
    return text[:500]


class ActionHandoff(Action):
    """Queues the conversation for a person with its whole context."""

    def __init__(self, client: Optional[ServiceClient] = None) -> None:
        self.client = client

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        """Posts the ticket and tells the citizen their place, or offers first under the offer policy."""
        signals = handoff_signals(tracker)
        reason = handoff_reason(tracker, signals)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        policy = os.environ.get("HANDOFF_EMOTION_POLICY", "handoff").strip().lower()
        if reason == "emotional" and intent in EMOTION_INTENTS and policy == "offer":
            dispatcher.utter_message(response="utter_offer_handoff")
            return []
        latest_emotion = (tracker.latest_message or {}).get("emotion") or {}
        if intent == "request_human" and latest_emotion.get("label") in EMOTIONAL_LABELS:
            # The rules only add empathy for the emotion intents; an angry "转人工" deserves it too.
            dispatcher.utter_message(response=f"utter_empathy_{latest_emotion['label']}")
        body = {
            "conversation_id": tracker.sender_id,
            "reason": reason,
            "emotion": _emotion_summary(signals["emotion"]),
            "turns": build_turns(tracker),
            "slots": handoff_slots(tracker),
            "channel": handoff_channel(tracker),
            "note": handoff_note(signals),
        }
        try:
            ticket = await (self.client or ServiceClient()).post("/internal/handoff/tickets", json=body)
        except (ServiceUnavailable, ServiceError) as exc:
            logger.error("handoff ticket for %s not created: %s", tracker.sender_id, exc)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return [SlotSet("handoff_reason", reason)]
        message = ticket.get("message") if isinstance(ticket, dict) else None
        if message:
            dispatcher.utter_message(text=message)
        else:
            dispatcher.utter_message(response="utter_handoff_queued")
        ticket_id = ticket.get("ticket_id") if isinstance(ticket, dict) else None
        events: List[EventType] = [SlotSet("handoff_reason", reason),
                                   SlotSet("handoff_ticket_id", str(ticket_id) if ticket_id is not None else None)]
        if (tracker.active_loop or {}).get("name"):
            # A person takes over: the half-filled form must not resume when the bot gets the chat back.
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


class ActionStoreRating(Action):
    """Stores the citizen's 1-5 rating of the agent and thanks them."""

    def __init__(self, client: Optional[ServiceClient] = None) -> None:
        self.client = client

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_store_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        """Posts the rating; an out-of-range value asks again."""
        value = next(tracker.get_latest_entity_values("rating"), None)
        if value is None:
            value = tracker.get_slot("rating")
        try:
            rating = int(float(value))
        except (TypeError, ValueError):
            rating = 0
        if not 1 <= rating <= 5:
            dispatcher.utter_message(response="utter_rating_invalid")
            dispatcher.utter_message(response="utter_ask_rating")
            return [SlotSet("rating", None)]
        body = {"conversation_id": tracker.sender_id, "rating": rating, "comment": rating_comment(tracker)}
        try:
            await (self.client or ServiceClient()).post("/internal/handoff/ratings", json=body)
        except ServiceError as exc:
            if exc.code == "already_rated":
                dispatcher.utter_message(response="utter_rating_already")
                return []
            logger.error("rating for %s refused: %s %s", tracker.sender_id, exc.code, exc.message)
            dispatcher.utter_message(response="utter_rating_unsaved")
            return [SlotSet("rating", float(rating))]
        except ServiceUnavailable as exc:
            logger.error("rating for %s not stored: %s", tracker.sender_id, exc)
            dispatcher.utter_message(response="utter_rating_unsaved")
            return [SlotSet("rating", float(rating))]
        dispatcher.utter_message(response="utter_rating_thanks")
        return [SlotSet("rating", float(rating))]
