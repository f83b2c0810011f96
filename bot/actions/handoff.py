"""Handoff to a person: the offer to upset citizens, the ticket with the whole context, two-strike
misunderstandings, and the rating after.

``action_offer_person`` answers anger or distress, whatever the citizen was
asking: one empathetic message with three buttons, a person (``/request_human``
-> ``action_handoff``, reason emotional), a complaint (``/choose_complaint``)
and carrying on (``/continue_task``). ``action_after_offer`` takes the last two:
it rewinds the offer and replays the upset message, as ``file_complaint`` (its
words become the complaint's description) or as the intent the classifier had
before the emotion re-ranked it, or resumes the form that was under way.

``action_handoff`` runs from the rules in ``bot/data/handoff/rules.yml``
(explicit request or a chosen button, urgent safety after the emergency
numbers). It decides the reason from the tracker, posts the context to
``POST /internal/handoff/tickets`` and tells the citizen what the service
answered (place in the queue and wait, or a callback outside agent hours).

``action_not_understood`` answers a message the bot cannot act on (gibberish,
a second bare "yes", the policies' core fallback): the first miss in a row asks
again, the second offers a person, and no answer repeats the previous bot
message word for word.

Emotion labels come from ``handoff.vocabulary`` (shared with the service).
"""

import copy
import logging
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import form_repair
from bot.actions.service_client import ServiceClient, ServiceError, ServiceUnavailable
from handoff.vocabulary import EMOTIONAL, Emotion

logger = logging.getLogger(__name__)

URGENT_INTENT = "urgent_help"
# The intents the emotion component puts on top, and the label each stands for.
EMOTION_INTENTS = {"emotion_angry": Emotion.angry.value, "emotion_distressed": Emotion.distressed.value}
OVERRIDE_INTENTS = {URGENT_INTENT, *EMOTION_INTENTS}
EMOTIONAL_LABELS = EMOTIONAL
MISUNDERSTOOD_INTENTS = ("nlu_fallback", "out_of_scope", "unclear")
# Bot actions that show the message before them was not understood.
NOT_UNDERSTOOD_ACTIONS = ("action_not_understood", "action_default_fallback", "utter_rephrase", "utter_affirm_ack",
                          "utter_inform_ack")
OFFER_ACTION = "action_offer_person"
COMPLAINT_INTENT = "file_complaint"
# Intents "继续办理" does not replay: nothing was under way.
NOT_RESUMABLE = {*MISUNDERSTOOD_INTENTS, *OVERRIDE_INTENTS, "greet", "goodbye", "thanks", "affirm", "deny",
                 "bot_challenge", "stop", "inform", "request_human", "continue_task", "choose_complaint", "rate",
                 "handoff_resumed", "ask_question"}
# The words of the complaint button when there is no upset message to replay.
COMPLAINT_WORDS = "我要投诉"
# How many recent citizen turns an emotion or a miss still counts for.
RECENT_TURNS = 3
MAX_TURNS = 50
# "5分", "打4分", "给5星吧" carry no comment worth keeping.
MAX_BARE_RATING = 4
# Slots the agent has no use for.
# An emotion this sure turns a typed request for a person into an emotional handoff (higher priority).
STRONG_EMOTION = 0.8
HIDDEN_SLOTS = {"requested_slot", "session_started_metadata", "handoff_reason", "handoff_ticket_id", "rating"}
CHANNELS = ("web", "wechat", "api")
NOTES_FILE = Path(__file__).with_name("handoff_notes.zh.yml")


@lru_cache(maxsize=1)
def _notes() -> Dict[str, Any]:
    """The agent-facing wording of the signals, read once."""
    return yaml.safe_load(NOTES_FILE.read_text(encoding="utf-8"))


def _user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    """The citizen's messages of the conversation, oldest first (without rewound ones)."""
    return [event for event in tracker.applied_events() if event.get("event") == "user"]


def citizen_turns(tracker: Tracker) -> List[Tuple[Dict[str, Any], List[str]]]:
    """Each citizen message with the names of the bot actions that answered it, oldest first."""
    turns: List[Tuple[Dict[str, Any], List[str]]] = []
    for event in tracker.applied_events():
        if event.get("event") == "user":
            turns.append((event, []))
        elif event.get("event") == "action" and turns and event.get("name") not in (None, "action_listen"):
            turns[-1][1].append(event["name"])
    return turns


def _intent_name(event: Dict[str, Any]) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _was_missed(turn: Tuple[Dict[str, Any], List[str]]) -> bool:
    """Whether a citizen turn was not understood: its intent, or the bot's answer to it, says so."""
    event, actions = turn
    return _intent_name(event) in MISUNDERSTOOD_INTENTS or any(a in NOT_UNDERSTOOD_ACTIONS for a in actions)


def misses_in_a_row(turns: Sequence[Tuple[Dict[str, Any], List[str]]], latest_missed: bool) -> int:
    """Misunderstood turns in a row up to the latest one (counted when latest_missed)."""
    count = 1 if latest_missed else 0
    for turn in reversed(turns[:-1]):
        if not _was_missed(turn):
            break
        count += 1
    return count


def last_bot_text(tracker: Tracker) -> Optional[str]:
    """The text of the bot's latest message."""
    for event in reversed(tracker.applied_events()):
        if event.get("event") == "bot":
            return event.get("text")
    return None


def previous_turn_bot_texts(tracker: Tracker) -> List[str]:
    """The texts the bot sent in its previous turn (an answer, then the form's question again)."""
    texts: List[str] = []
    seen_user = 0
    for event in reversed(tracker.applied_events()):
        if event.get("event") == "user":
            seen_user += 1
            if seen_user == 2:
                break
        elif event.get("event") == "bot" and seen_user == 1 and event.get("text"):
            texts.append(event["text"])
    return texts


def unrepeated_response(domain: Dict[str, Any], tracker: Tracker, names: Sequence[str]) -> str:
    """The first of the responses whose words differ from the bot's latest message."""
    previous = last_bot_text(tracker)
    responses = (domain or {}).get("responses") or {}
    for name in names:
        texts = {variant.get("text") for variant in responses.get(name) or []}
        if previous is None or previous not in texts:
            return name
    return names[-1]


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
    turns = citizen_turns(tracker)
    misses = misses_in_a_row(turns, bool(turns) and _intent_name(turns[-1][0]) in MISUNDERSTOOD_INTENTS)
    slot_misses = tracker.get_slot("faq_miss_count")
    if isinstance(slot_misses, (int, float)):
        misses = max(misses, int(slot_misses))
    emotions = [emotion for emotion in map(_emotion, recent) if emotion]
    strongest = next((e for e in reversed(emotions) if e["label"] == Emotion.urgent.value), None) or next(
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
    if intent == URGENT_INTENT or label == Emotion.urgent.value:
        return "urgent"
    typed = not (latest.get("text") or "").startswith("/")
    score = float((signals["emotion"] or {}).get("score") or 0.0)
    if intent == "request_human" and typed and not signals["profanity"] and score < STRONG_EMOTION:
        # "别跟我绕了 我要找真人说": a request for a person in a mildly impatient tone is a request;
        # the note still shows the emotion to the agent.
        return "explicit"
    if intent in EMOTION_INTENTS or label in EMOTIONAL_LABELS or signals["profanity"]:
        return "emotional"
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
    if emotion and emotion.get("label") != Emotion.neutral.value:
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
        """Posts the ticket and tells the citizen their place in the queue."""
        signals = handoff_signals(tracker)
        reason = handoff_reason(tracker, signals)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        latest_emotion = (tracker.latest_message or {}).get("emotion") or {}
        if reason == "emotional" and intent == "request_human" and latest_emotion.get("label") in EMOTIONAL_LABELS:
            # An upset "转人工" skips the offer; it deserves the empathy line all the same.
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


def _upset_label(tracker: Tracker) -> str:
    """angry or distressed: the emotion intent of the latest message, else its emotion label."""
    latest = tracker.latest_message or {}
    label = EMOTION_INTENTS.get(((latest.get("intent") or {}).get("name")) or "")
    if not label:
        label = (latest.get("emotion") or {}).get("label")
    return label if label in EMOTIONAL_LABELS else Emotion.distressed.value


def original_intent(event: Dict[str, Any]) -> Optional[str]:
    """The intent the NLU gave a message before the emotion component put its own on top."""
    parse = event.get("parse_data") or {}
    for entry in [parse.get("intent") or {}, *(parse.get("intent_ranking") or [])]:
        name = entry.get("name")
        if name and name not in OVERRIDE_INTENTS:
            return name
    return None


def replayed(event: Dict[str, Any], intent: str, text: Optional[str] = None) -> Dict[str, Any]:
    """A copy of a citizen message with another intent on top, to be predicted on again."""
    parse = copy.deepcopy(event.get("parse_data") or {})
    top = {"name": intent, "confidence": 1.0}
    parse["intent"] = top
    parse["intent_ranking"] = [top, *(entry for entry in parse.get("intent_ranking") or []
                                      if entry.get("name") not in OVERRIDE_INTENTS and entry.get("name") != intent)]
    parse.setdefault("entities", [])
    if text is not None:
        parse["text"] = text
    return {"event": "user", "timestamp": None, "text": text if text is not None else event.get("text"),
            "parse_data": parse, "input_channel": event.get("input_channel"), "metadata": event.get("metadata") or {}}


class ActionOfferPerson(Action):
    """Anger or distress: one empathetic message offering a person, a complaint, or carrying on."""

    def name(self) -> str:
        """The action's name in the domain."""
        return OFFER_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        """Sends the offer in words other than the previous message's."""
        label = _upset_label(tracker)
        dispatcher.utter_message(response=unrepeated_response(
            domain, tracker, [f"utter_empathy_offer_{label}", f"utter_empathy_offer_{label}_again"]))
        return []


class ActionAfterOffer(Action):
    """The complaint or carry-on button of the offer: back to the citizen's own words."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_after_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        """Rewinds the offer and replays the upset message as a complaint or as what it asked."""
        turns = citizen_turns(tracker)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        offered = len(turns) >= 2 and OFFER_ACTION in turns[-2][1]
        upset = turns[-2][0] if offered else None
        loop = (tracker.active_loop or {}).get("name")
        # Rewinding the button and the upset message keeps neither in the dialogue history,
        # nor any slot a form took from them.
        rewind: List[EventType] = [UserUtteranceReverted(), UserUtteranceReverted()] if offered else []
        if intent in ("choose_complaint", COMPLAINT_INTENT):
            # The button, or "投诉" typed instead: the upset message is the complaint's description.
            if upset is not None:
                return [*rewind, ActionExecuted("action_listen"), replayed(upset, COMPLAINT_INTENT)]
            return [ActionExecuted("action_listen"),
                    replayed(turns[-1][0] if turns else {}, COMPLAINT_INTENT, text=COMPLAINT_WORDS)]
        if loop:
            # The form asks its question again.
            return [*rewind, FollowupAction(loop)]
        resumed = original_intent(upset) if upset is not None else None
        if resumed and resumed not in NOT_RESUMABLE:
            return [*rewind, ActionExecuted("action_listen"), replayed(upset, resumed)]
        dispatcher.utter_message(response="utter_continue_prompt")
        return []


class ActionNotUnderstood(Action):
    """A message the bot cannot act on: ask again once, then offer a person, never the same words twice."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_not_understood"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[str, Any]) -> List[EventType]:
        """Counts the misses in a row (this one included) and answers by that count.

        As the policies' core fallback it may run after the bot has already answered this
        message; then it adds nothing. Either way the bot then waits for the citizen, so
        a fallback never predicts itself again in the same turn.
        """
        if form_repair.said_this_turn(tracker):
            return [FollowupAction("action_listen")]
        misses = misses_in_a_row(citizen_turns(tracker), latest_missed=True)
        if misses >= 2:
            names = ["utter_not_understood_offer", "utter_not_understood_offer_again"]
        else:
            names = ["utter_not_understood", "utter_rephrase"]
        dispatcher.utter_message(response=unrepeated_response(domain, tracker, names))
        # The FAQ counts the same misses: its next answer offers a person too.
        return [SlotSet("faq_miss_count", float(misses)), FollowupAction("action_listen")]


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
