"""NLU component that holds a few intents to their words, after DIET and the FallbackClassifier.

DIET learns characters, and the closed-class intents (greet, stop, affirm ...)
have short examples full of common characters, so it reads them into messages
that merely share one: 对了 became stop and cancelled a booking at its read-back,
在几楼办啊 became a greeting. The word cues in ``bot/cues/intent_cues.yml``
correct the prediction, in this order:

1. with a booking code or a complaint ticket in it, the words around the
   identifier say what to do with it (查, 取消, 改到…; 补充, 进度…);
2. a request the centre does not handle (查快递, 挂专家号), naming no service, is
   ``out_of_scope``;
3. a message made only of yes-words with no negation is ``affirm``
   (这回对了, 可以 提交);
4. a short message that only stops what is under way is ``stop``
   (先不提交了，我再想想);
5. a short question read as a complaint (要交钱不) is ``faq``; naming a new
   complaint is ``file_complaint`` (我要投述！问公租房…), and so is a fault of a
   place or machine of the centre told without asking anything
   (取号机把我身份证吞进去了 半天不吐出来), and a bad experience told at length
   (…好不容易轮到我 窗口的说系统要维护让我下午再来 这叫什么事啊);
6. a request to book with a day or a time (or read as a closed-class intent)
   is ``book_appointment`` unless it asks how booking works, names a booking
   already made or complains (身分证快到期了 后天下午两点半有号么); so is a day or a
   time with a service, read as a bare value or given with a mobile
   (明天下午三点半 办户口迁入落户 符晓东 156…); asking whether a named service
   can be booked asks to book it (想给他上个户口 能约吗);
7. a closed-class intent whose words the message lacks gives way to the next
   intent in the ranking that has them; a question with nothing confident left
   is ``faq``, a bare name ``inform``, anything else ``unclear``;
8. ``inform`` with no value in it (no entity, no Chinese, nothing like a code) is
   ``unclear`` (fdsa fdsa ;;;;), so it counts as a misunderstanding.

A request for a person that declines one (不用转人工，直接帮我约) is first replaced by the
next intent in the ranking, then checked like any other; asking for someone in charge
(找个能管事的人来) is a request for a person.

Any correction is recorded in the parse data as ``intent_cue`` (rule, from, to).
Button payloads ("/affirm") are left alone.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Sequence, Set, Text

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.normalization import normalize_text
from service.citizen_details import SURNAMES
from service.pii import COMPOUND_SURNAMES

CUES_FILE = "intent_cues.yml"
_PUNCTUATION = re.compile(r"[\s,，.。!！?？~～、;；:：…\-—_'\"“”‘’()（）\[\]【】]+")
# Intents a booking request may replace: ones that carry no task of their own.
_BOOKING_REPLACES = {"faq", "inform", "nlu_fallback", "unclear", "out_of_scope", "stop", "greet", "goodbye",
                     "affirm", "deny", "thanks", "rate"}
_COMPLAINT_REPLACES = {"faq", "inform", "nlu_fallback", "unclear", "out_of_scope", "greet", "goodbye", "affirm",
                       "deny", "book_appointment", "emotion_angry", "emotion_distressed", "stop"}
_OUT_OF_SCOPE_REPLACES = {"faq", "inform", "nlu_fallback", "unclear", "book_appointment", "check_booking",
                          "cancel_booking", "reschedule_booking", "check_complaint"}
_STOP_REPLACES = {"faq", "inform", "nlu_fallback", "unclear", "affirm", "greet", "out_of_scope"}
_SHORT_STOP = 12
# The catalogue's entry for the centre itself (faq/catalogue.yml).
CENTRE_SERVICE = "service_center"
_CONFIDENT_LEFT = 0.3
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CODE_LIKE = re.compile(r"[A-Za-z0-9]{6,}|\d{4,}")


def _operations(table: Dict[str, Sequence[str]]) -> List[tuple[str, Pattern[str]]]:
    """Intent -> word patterns, compiled in the file's order (the first match wins)."""
    return [(intent, _compile(words)) for intent, words in table.items()]


def looks_like_a_name(text: str) -> bool:
    """Two to four Chinese characters starting with a common surname (孙小美, 欧阳娜娜)."""
    bare = _PUNCTUATION.sub("", text)
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,4}", bare):
        return False
    return bare[0] in SURNAMES or bare[:2] in COMPOUND_SURNAMES


def _compile(patterns: Sequence[str]) -> Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@dataclass
class IntentCues:
    """The cue lists of ``bot/cues/intent_cues.yml``, compiled."""

    needs_cue: Dict[str, Pattern[str]]
    yes_words: List[str]
    yes_core: Pattern[str]
    negations: Pattern[str]
    stop_phrases: Pattern[str]
    booking_verbs: Pattern[str]
    booking_not_new: Pattern[str]
    time_words: Pattern[str]
    question_words: Pattern[str]
    booking_code_operations: List[tuple[str, Pattern[str]]]
    ticket_operations: List[tuple[str, Pattern[str]]]
    complaint_openers: Pattern[str]
    complaint_not_new: Pattern[str]
    fault_places: Pattern[str]
    fault_words: Pattern[str]
    fault_question: Pattern[str]
    story_words: List[str]
    story_min_chars: int
    can_book: Pattern[str]
    reschedule_words: Pattern[str]
    person_declined: Pattern[str]
    person_requests: Pattern[str]
    out_of_scope_words: Pattern[str]
    out_of_scope_requests: Pattern[str]
    short_question_max: int

    @classmethod
    def from_file(cls, path: Path) -> "IntentCues":
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        literal = lambda words: _compile([re.escape(str(w)) for w in words])  # noqa: E731
        return cls(
            needs_cue={intent: literal(words) for intent, words in data["needs_cue"].items()},
            # Longest first, so the segmentation of a yes takes 没问题 before 没.
            yes_words=sorted({str(w).lower() for w in data["yes_words"]}, key=len, reverse=True),
            yes_core=literal(data["yes_core"]),
            negations=literal(data["negations"]),
            stop_phrases=literal(data["stop_phrases"]),
            booking_verbs=_compile(data["booking_verbs"]),
            booking_not_new=_compile(data["booking_not_new"]),
            time_words=_compile(data["time_words"]),
            question_words=_compile(data["question_words"]),
            booking_code_operations=_operations(data["booking_code_operations"]),
            ticket_operations=_operations(data["ticket_operations"]),
            complaint_openers=_compile(data["complaint_openers"]),
            complaint_not_new=_compile(data["complaint_not_new"]),
            fault_places=literal(data["fault_places"]),
            fault_words=literal(data["fault_words"]),
            fault_question=_compile(data["fault_question"]),
            story_words=[str(word) for word in data["story_words"]],
            story_min_chars=int(data["story_min_chars"]),
            can_book=_compile(data["can_book"]),
            reschedule_words=_compile(data["reschedule_words"]),
            person_declined=_compile(data["person_declined"]),
            person_requests=_compile(data["person_requests"]),
            out_of_scope_words=literal(data["out_of_scope_words"]),
            out_of_scope_requests=_compile(data["out_of_scope_requests"]),
            short_question_max=int(data["short_question_max"]),
        )

    def operation(self, text: str, entities: Set[str]) -> Optional[str]:
        """What the words around a booking code or a complaint ticket ask to do with it."""
        operations = []
        if "ticket_number" in entities:
            operations = self.ticket_operations
        elif "booking_code" in entities:
            operations = self.booking_code_operations
        return next((intent for intent, pattern in operations if pattern.search(text)), None)

    def opens_complaint(self, text: str) -> bool:
        """"我要投诉…" names a new complaint (not its progress or how to file one)."""
        return bool(self.complaint_openers.search(text)) and not self.complaint_not_new.search(text)

    def tells_grievance(self, text: str) -> bool:
        """A bad experience told at length: long, asking nothing, with two or more story words."""
        if len(_PUNCTUATION.sub("", text)) < self.story_min_chars or self.fault_question.search(text):
            return False
        return sum(1 for word in self.story_words if word in text) >= 2 and not self.complaint_not_new.search(text)

    def reports_fault(self, text: str) -> bool:
        """"取号机把我身份证吞进去了": a place of the centre and what is wrong with it, asking nothing."""
        return bool(self.fault_places.search(text) and self.fault_words.search(text)) \
            and not self.fault_question.search(text) and not self.complaint_not_new.search(text)

    def is_yes(self, text: str) -> bool:
        """Whether the message is made only of yes-words, with a core yes and no negation."""
        bare = _PUNCTUATION.sub("", text.lower())
        if not bare or len(bare) > 16 or self.negations.search(bare.replace("没问题", "").replace("没错", "")
                                                                 .replace("没毛病", "").replace("没有问题", "")):
            return False
        if not self.yes_core.search(bare):
            return False
        position = 0
        while position < len(bare):
            word = next((w for w in self.yes_words if bare.startswith(w, position)), None)
            if word is None:
                return False
            position += len(word)
        return True

    def is_stop(self, text: str) -> bool:
        """A short message that only stops what is under way (no question, no new day or time)."""
        bare = _PUNCTUATION.sub("", text)
        return (len(bare) <= _SHORT_STOP and bool(self.stop_phrases.search(bare))
                and not self.question_words.search(text) and not self.time_words.search(bare))

    def is_new_booking(self, text: str, intent: Optional[str], names_service: bool, gives_mobile: bool = False) -> bool:
        """A request to book: a booking verb with a day or time, or in place of a closed-class intent;
        or a day or time with a service, read as a bare value."""
        if self.booking_not_new.search(text):
            return False
        if names_service and self.can_book.search(text):
            # "上个户口 能约吗": whether it can be booked is answered by booking it.
            return True
        if names_service and gives_mobile and not self.question_words.search(text):
            # "17756230948 办港澳通行证续签注": a service with a mobile number and no question is a booking.
            return True
        has_time = bool(self.time_words.search(text))
        if not self.booking_verbs.search(text):
            # A day or time with a service and a mobile number is a booking, whatever else DIET read
            # ("宝宝满月了要上户口，下周三上午九点半，我是孩子妈妈邱雪，电话176…"). Without a service it may
            # answer another form ("今天上午，电话137…" for a complaint).
            return has_time and names_service and (intent in {"inform", "nlu_fallback"} or gives_mobile)
        return has_time or intent in self.needs_cue or intent in {"inform", "nlu_fallback"}

    def has_cue(self, intent: str, text: str) -> bool:
        """Whether a closed-class intent's words are in the message (other intents need none)."""
        pattern = self.needs_cue.get(intent)
        return pattern is None or bool(pattern.search(text))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class IntentCueChecker(GraphComponent):
    """Corrects the predicted intent with the word cues (see the module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"cues": "bot/cues/intent_cues.yml"}

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return ["zh"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrains (re-copies the cues) when the cue file changes."""
        path = Path(config.get("cues") or "")
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 cues: Optional[IntentCues] = None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.cues = cues

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> IntentCueChecker:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Keeps the cue file in the model, so a served model never reads the working tree."""
        with self._model_storage.write_to(self._resource) as folder:
            shutil.copy(self.config["cues"], Path(folder) / CUES_FILE)
        self.cues = IntentCues.from_file(Path(self.config["cues"]))
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> IntentCueChecker:
        with model_storage.read_from(resource) as folder:
            cues = IntentCues.from_file(Path(folder) / CUES_FILE)
        return cls(config, model_storage, resource, cues)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if self.cues is None or not isinstance(text, str) or text.startswith("/"):
                continue
            corrected = self.correct(normalize_text(text).lower(), message)
            if corrected is not None:
                rule, intent, confidence = corrected
                self._set_intent(message, rule, intent, confidence)
        return messages

    def correct(self, text: str, message: Message) -> Optional[tuple[str, str, float]]:
        """(rule, intent, confidence) of the correction, or None when the prediction stands."""
        cues = self.cues
        assert cues is not None
        top = message.get(INTENT) or {}
        current, confidence = top.get("name"), float(top.get("confidence") or 0.0)
        if current == "request_human" and cues.person_declined.search(text):
            # "不用转人工，直接帮我约": what the message asks for instead is read from the rest of the ranking.
            following = next((r for r in message.get(INTENT_RANKING_KEY) or []
                              if r.get("name") not in ("request_human", "nlu_fallback")), None)
            if following is None:
                return None
            current = following.get("name")
            rest = self._corrected(text, message, current, confidence, cues)
            return rest or ("person_declined", current, float(following.get("confidence") or 0.0))
        if current not in ("request_human", "urgent_help") and cues.person_requests.search(text) \
                and not cues.person_declined.search(text):
            return ("person_request", "request_human", max(confidence, 0.9))
        return self._corrected(text, message, current, confidence, cues)

    def _corrected(self, text: str, message: Message, current: Optional[str], confidence: float,
                   cues: IntentCues) -> Optional[tuple[str, str, float]]:
        """The correction of rules 1-7 for the intent ``current``."""
        entities = {e.get("entity") for e in message.get(ENTITIES) or []}
        operation = cues.operation(text, entities)
        if operation is not None:
            return None if operation == current else ("identifier_operation", operation, max(confidence, 0.9))
        if current in _OUT_OF_SCOPE_REPLACES and "service" not in entities and (
                cues.out_of_scope_words.search(text) or cues.out_of_scope_requests.search(text)):
            return ("out_of_scope_words", "out_of_scope", max(confidence, 0.9))
        if cues.is_yes(text):
            return None if current == "affirm" else ("yes_words", "affirm", 1.0)
        if current in _STOP_REPLACES and cues.is_stop(text):
            return ("stop_phrase", "stop", max(confidence, 0.9))
        if current == "file_complaint" and len(_PUNCTUATION.sub("", text)) <= cues.short_question_max \
                and cues.question_words.search(text) and not cues.opens_complaint(text):
            # "要交钱不" after an answer: a question about the service, not a complaint.
            return ("short_question", "faq", confidence)
        if current in _COMPLAINT_REPLACES and cues.opens_complaint(text):
            return ("complaint_opener", "file_complaint", max(confidence, 0.9))
        if current in _COMPLAINT_REPLACES - {"book_appointment"} and cues.reports_fault(text):
            return ("fault_report", "file_complaint", max(confidence, 0.9))
        if current in _COMPLAINT_REPLACES - {"book_appointment", "stop"} and cues.tells_grievance(text):
            return ("grievance_story", "file_complaint", max(confidence, 0.9))
        # The centre itself (网上预约, 政务中心) is no service one books.
        services = {e.get("value") for e in message.get(ENTITIES) or [] if e.get("entity") == "service"}
        names_service = bool(services - {CENTRE_SERVICE})
        if current in _BOOKING_REPLACES and cues.is_new_booking(text, current, names_service, "mobile" in entities):
            return ("booking_request", "book_appointment", max(confidence, 0.9))
        if current == "book_appointment" and not services and cues.reschedule_words.search(text) \
                and not cues.booking_verbs.search(cues.reschedule_words.sub("", text)):
            # "那帮我改到同一天下午三点": moving the booking talked about, not a new one.
            return ("reschedule_words", "reschedule_booking", max(confidence, 0.9))
        if current in cues.needs_cue and not cues.has_cue(current, text):
            return self._next_cued(text, message, current, confidence)
        if current == "inform" and not message.get(ENTITIES) and not _CJK.search(text) \
                and not _CODE_LIKE.search(text):
            return ("inform_without_value", "unclear", confidence)
        return None

    def _next_cued(self, text: str, message: Message, current: str,
                   confidence: float) -> Optional[tuple[str, str, float]]:
        """The next ranked intent whose cues hold; a question with nothing confident left is an FAQ."""
        assert self.cues is not None
        skipped: Set[str] = {current, "nlu_fallback"}
        for entry in message.get(INTENT_RANKING_KEY) or []:
            name = entry.get("name")
            if name in skipped or not self.cues.has_cue(name, text):
                continue
            if float(entry.get("confidence") or 0.0) >= _CONFIDENT_LEFT:
                return ("missing_cue", name, float(entry["confidence"]))
            break
        if self.cues.question_words.search(text):
            return ("missing_cue_question", "faq", confidence)
        if looks_like_a_name(text):
            # "孙小美" answers a question about the name; the forms read it whatever the intent.
            return ("missing_cue_name", "inform", confidence)
        return ("missing_cue", "unclear", confidence)

    @staticmethod
    def _set_intent(message: Message, rule: str, intent: str, confidence: float) -> None:
        previous = (message.get(INTENT) or {}).get("name")
        top = {"name": intent, "confidence": confidence}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != intent]
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
        message.set("intent_cue", {"rule": rule, "from": previous, "to": intent}, add_to_output=True)
