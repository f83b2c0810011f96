"""What every form does with real citizens, in one place: ask once, rephrase once, then offer a person.

A form's validation action counts misunderstood answers to the question it
asked (``<form>_misses``) and may already have asked the question itself, in a
message that explains what was wrong (``<form>_prompted``). The form's ask
actions read both: no second message when the question was just asked, a
rephrased question after one miss, the offer of a person after two, and never
the same response as the previous bot message.
"""

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

# Intents that leave the form's hands when the message gives nothing the form asked for.
LEAVING_INTENTS = frozenset({"stop"})
# Quick, unmistakable yes at a confirmation.
YES = re.compile(r"^\s*(对|对的|是|是的|确认|确定|好|好的|没问题|可以|行|嗯|嗯嗯|ok|OK|提交|确认预约|确认提交|就这样|没错)[。！!]*\s*$")
MISSES_BEFORE_PERSON = 2
# Below this, an "affirm" is not trusted to confirm a booking or a complaint (阿巴阿巴 is no yes).
CONFIRM_CONFIDENCE = 0.85
PERSON_WORDS = re.compile(r"人工|客服|真人|工作人员|转接|找人|找个人|来个人|有人吗|跟人说|和人说")
# Actions that run between a citizen's message and the form when the form resumes after a digression.
# Leaving one form for another (a booking asked for mid-complaint) does not use the message up either.
_FORM_MACHINERY = {"action_listen", "action_extract_slots", "action_deactivate_loop"}


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the citizen's last message."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name")


def intent_confidence(tracker: Tracker) -> float:
    """How sure NLU is of the last message's intent."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return float(intent.get("confidence") or 0.0)


def wants_person(tracker: Tracker, found_something: bool) -> bool:
    """Whether the message asks for a person (or help) rather than answering the form's question.

    "我叫李娜" may read as a request for a person to NLU; when the message gives a detail the form
    asked for and names no person, it is an answer.
    """
    intent = latest_intent(tracker)
    if intent == "urgent_help":
        return True
    if intent != "request_human":
        return False
    return not found_something or bool(PERSON_WORDS.search(latest_text(tracker)))


def confirms(tracker: Tracker) -> bool:
    """A clear yes at a confirmation: the words themselves, or NLU quite sure of affirm."""
    return bool(YES.match(latest_text(tracker))) or (
        latest_intent(tracker) == "affirm" and intent_confidence(tracker) >= CONFIRM_CONFIDENCE)


def latest_text(tracker: Tracker) -> str:
    """The citizen's last message as typed (a button sends its payload)."""
    return str((tracker.latest_message or {}).get("text") or "").strip()


def reads_new_message(tracker: Tracker, form: str, openers: tuple[str, ...] = ()) -> bool:
    """False when the form resumes after another action (an FAQ answer, a failed commit): that message is used up.

    ``openers`` are actions that run before the form on the message that opens it.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action":
            name = event.get("name")
            if name not in _FORM_MACHINERY and name not in (form, f"validate_{form}", *openers):
                return False
    return True


def last_bot_responses(tracker: Tracker) -> list[str]:
    """The response names the bot used in its previous turn (after the citizen's message before the last)."""
    names: list[str] = []
    seen_user = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user += 1
            if seen_user == 2:
                break
        elif event.get("event") == "bot" and seen_user == 1:
            name = (event.get("metadata") or {}).get("utter_action")
            if name:
                names.append(name)
    return names


def said_this_turn(tracker: Tracker) -> bool:
    """Whether the bot already sent a message since the citizen's last one."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


def misses(tracker: Tracker, form: str) -> int:
    """How many answers in a row to the current question were not understood."""
    return int(tracker.get_slot(f"{form}_misses") or 0)


def count_miss(tracker: Tracker, form: str, understood: bool) -> int:
    """The miss count after this message: reset by any understood answer; the opening message is no answer."""
    if understood or not tracker.get_slot("requested_slot"):
        return 0
    return misses(tracker, form) + 1


def ask(dispatcher: CollectingDispatcher, tracker: Tracker, form: str, response: str, *, fresh: bool = False,
        **values: Any) -> list[EventType]:
    """Asks a form question the way a patient clerk would (see the module docstring)."""
    prompted = f"{form}_prompted"
    if tracker.get_slot(prompted):
        return [SlotSet(prompted, False)]
    missed = misses(tracker, form)
    if missed >= MISSES_BEFORE_PERSON:
        offer = "utter_form_offer_person" if missed % 2 == 0 else "utter_form_offer_person_again"
        dispatcher.utter_message(response=offer, **values)
        return []
    chosen = response if missed == 0 else response.replace("utter_ask_", "utter_reask_", 1)
    # ``fresh``: the question carries new content (a corrected summary), so it is not a repeat.
    if not fresh and chosen in last_bot_responses(tracker):
        # Never the same words twice in a row (after a digression the question comes back reworded).
        chosen = response.replace("utter_ask_", "utter_resume_", 1)
    dispatcher.utter_message(response=chosen, **values)
    return []
