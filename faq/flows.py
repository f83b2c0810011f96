"""Answering a citizen's question: match, decide, render, remember misses, log.

Only knowledge-base text is ever rendered as a template. The citizen's text is
matched against the questions and stored masked in the log; it is never put
into a reply, so ``{fee}``, ``{{ }}`` or ``<script>`` typed by a citizen cannot
come back as anything.
"""

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from faq.enums import AnswerStatus
from faq.knowledge import FaqEntry
from faq.knowledge_base import KnowledgeBase
from faq.matcher import Candidate as Ranked
from faq.matcher import Ranking, clean_text
from faq.models import AnswerRead, AnswerRequest, Candidate, EntryRead, FaqQuery
from faq.render import (
    aspect_entry_id,
    book_payload,
    booking_entry_id,
    choose_payload,
    entry_buttons,
    online_entry_id,
    render_template,
    where_entry_id,
)
from faq.service import question_row
from faq.settings import FaqSettings
from service.texts import load_texts, text

CLARIFY_CANDIDATES = 3
# Entries ranked per question: enough to find the best entry of a service the text names.
RANKED = 10


def button_titles() -> dict[str, str]:
    """Titles of the follow-up buttons, from the domain's texts."""
    return {kind: text("faq", f"button_{kind}") for kind in ("book", "online", "human")}


def human_button() -> dict[str, str]:
    """The button that asks for a person (the handoff feature's intent)."""
    return {"title": text("faq", "button_human"), "payload": "/request_human"}


def render_entry(knowledge: KnowledgeBase, entry: FaqEntry) -> tuple[str, list[dict[str, str]]]:
    """An entry's answer and buttons, rendered from the current catalogue."""
    service = knowledge.services[entry.service]
    return render_template(entry.answer, service), entry_buttons(entry, service, button_titles())


def entry_read(knowledge: KnowledgeBase, entry: FaqEntry) -> EntryRead:
    """An entry as the API shows it, answer rendered."""
    answer, buttons = render_entry(knowledge, entry)
    return EntryRead(id=entry.id, topic=entry.topic, service=entry.service, aspect=entry.aspect,
                     title=entry.title, text=answer, buttons=buttons, questions=list(entry.questions))


def answer_entry(knowledge: KnowledgeBase, entry: FaqEntry, confidence: float) -> AnswerRead:
    """A direct answer from one entry."""
    answer, buttons = render_entry(knowledge, entry)
    return AnswerRead(status=AnswerStatus.answered, entry_id=entry.id, service=entry.service,
                      confidence=round(min(confidence, 1.0), 4), text=answer, buttons=buttons)


def answer_online(knowledge: KnowledgeBase, service_id: str) -> AnswerRead | None:
    """The built-in answer with a service's online entry (the 在线办理 button)."""
    service = knowledge.services.get(service_id)
    if service is None:
        return None
    template = str(load_texts("faq")["online_answer"])
    buttons = [human_button()]
    if service.bookable:
        buttons.insert(0, {"title": text("faq", "button_book"), "payload": book_payload(service.id)})
    return AnswerRead(status=AnswerStatus.answered, entry_id=online_entry_id(service.id), service=service.id,
                      confidence=1.0, text=render_template(template, service), buttons=buttons)


def answer_where(knowledge: KnowledgeBase, service_id: str) -> AnswerRead | None:
    """The built-in answer with a service's hall, window and hours, from the catalogue."""
    service = knowledge.services.get(service_id)
    if service is None:
        return None
    buttons = [human_button()]
    if service.bookable:
        buttons.insert(0, {"title": text("faq", "button_book"), "payload": book_payload(service.id)})
    return AnswerRead(status=AnswerStatus.answered, entry_id=where_entry_id(service.id), service=service.id,
                      confidence=1.0, text=render_template(str(load_texts("faq")["where_answer"]), service),
                      buttons=buttons)


# "低保申请能预约吗", "办护照要预约吗": whether the service can be booked, not how it is done.
ASKS_BOOKING = re.compile(r"(能|可以|可不可以|能不能|要|需要|需不需要|用不用|支持|得)(在线|网上)?(预约|约)(吗|么|不|没|嘛)?|预约(吗|么)")


def answer_booking(knowledge: KnowledgeBase, service_id: str) -> AnswerRead | None:
    """The built-in answer whether a service can be booked, from the catalogue."""
    service = knowledge.services.get(service_id)
    if service is None:
        return None
    texts = load_texts("faq")
    template = texts["booking_answer_bookable"] if service.bookable else texts["booking_answer_walk_in"]
    buttons = [human_button()]
    if service.bookable:
        buttons.insert(0, {"title": text("faq", "button_book"), "payload": book_payload(service.id)})
    return AnswerRead(status=AnswerStatus.answered, entry_id=booking_entry_id(service.id), service=service.id,
                      confidence=1.0, text=render_template(str(template), service), buttons=buttons)


def asks_booking_of(question: str, ranking: Ranking, choice: "Choice", knowledge: KnowledgeBase) -> str | None:
    """The one service a "能预约吗" question is about, when no entry of that service speaks of booking."""
    services = ranking.named_services or ((ranking.context_service,) if ranking.context_service else ())
    if len(services) != 1 or not ASKS_BOOKING.search(question):
        return None
    if choice.status == AnswerStatus.answered:
        entry = knowledge.entries[choice.entries[0].entry_id]
        if entry.service == services[0] and ("预约" in entry.title or any("预约" in q for q in entry.questions)):
            return None  # the operator's own entry answers it ("结婚登记条件和预约")
    return services[0]


def asks_where_of(ranking: Ranking, choice: "Choice", service_of: Mapping[str, str]) -> str | None:
    """The service talked about, when "在几楼办啊" names none and no entry of that service is the answer."""
    # A question that names its service is one the entries' own variants answer ("残疾证在哪个地方办理").
    if "where" not in ranking.aspects or ranking.named_services or not ranking.context_service:
        return None
    if choice.status == AnswerStatus.answered and service_of[choice.entries[0].entry_id] == ranking.context_service:
        return None  # the service's own entry answers (低保 is applied for at the street office)
    return ranking.context_service


# Aspects every catalogue service states in its own fields, so they are answered for the service
# talked about even when no entry of that service covers them ("周六能办不", "办下来要多久").
CATALOGUE_ASPECTS = ("hours", "time", "fee")


def answer_aspect(knowledge: KnowledgeBase, aspect: str, service_id: str) -> AnswerRead | None:
    """The built-in answer with a service's hours, time limit or fee, from the catalogue."""
    service = knowledge.services.get(service_id)
    if service is None or aspect not in CATALOGUE_ASPECTS:
        return None
    buttons = [human_button()]
    if service.bookable:
        buttons.insert(0, {"title": text("faq", "button_book"), "payload": book_payload(service.id)})
    return AnswerRead(status=AnswerStatus.answered, entry_id=aspect_entry_id(aspect, service.id), service=service.id,
                      confidence=1.0, text=render_template(str(load_texts("faq")[f"{aspect}_answer"]), service),
                      buttons=buttons)


def asks_aspect_of(ranking: Ranking, choice: "Choice", service_of: Mapping[str, str]) -> tuple[str, str] | None:
    """(aspect, service) when the question asks one catalogue aspect of the one service named or talked
    about, and no entry of that service is clearly the answer."""
    services = ranking.named_services or ((ranking.context_service,) if ranking.context_service else ())
    aspects = [aspect for aspect in ranking.aspects if aspect in CATALOGUE_ASPECTS]
    if len(services) != 1 or len(aspects) != 1 or "where" in ranking.aspects:
        return None
    if choice.status == AnswerStatus.answered and (
            ranking.named_services or service_of[choice.entries[0].entry_id] == services[0]):
        return None  # an entry answers it (the operator's words come first)
    # "办下来要多久？" while booking a business licence: another service's entry is no answer to it.
    return aspects[0], services[0]


def lead(ranking: Ranking) -> float:
    """How far the best entry's ranking score is ahead of the runner-up's (infinite without one)."""
    if len(ranking.candidates) < 2:
        return math.inf
    return ranking.candidates[0].score - ranking.candidates[1].score


def is_ambiguous(ranking: Ranking, service_of: Mapping[str, str], margin: float) -> bool:
    """The runner-up is about as likely as the best and concerns a different service."""
    if len(ranking.candidates) < 2:
        return False
    best, second = ranking.candidates[0], ranking.candidates[1]
    return service_of[best.entry_id] != service_of[second.entry_id] and lead(ranking) < margin


@dataclass(frozen=True)
class Choice:
    """What to do with a ranking: answer its best entry, offer some entries, or say it does not know."""

    status: AnswerStatus
    # Answered: the best entry alone; clarify: the entries offered, best first.
    entries: tuple[Ranked, ...] = ()


def clarification(ranking: Ranking, service_of: Mapping[str, str], settings: FaqSettings) -> tuple[Ranked, ...]:
    """The entries worth offering; when the text names a service (or the conversation is about one),
    its best entry is among them, whatever other services' entries score."""
    worth = [c for c in ranking.candidates if c.confidence >= settings.clarify_threshold]
    offered = worth[:CLARIFY_CANDIDATES]
    for service in ranking.named_services or ((ranking.context_service,) if ranking.context_service else ()):
        if offered and not any(service_of[c.entry_id] == service for c in offered):
            own = next((c for c in worth if service_of[c.entry_id] == service), None)
            if own is not None:
                offered = [*offered[:CLARIFY_CANDIDATES - 1], own] if len(offered) >= CLARIFY_CANDIDATES \
                    else [*offered, own]
    return tuple(offered)


def choose(ranking: Ranking, service_of: Mapping[str, str], settings: FaqSettings) -> Choice:
    """Answer when one entry is clearly meant, ask when several might be, admit it when none is.

    One entry is clearly meant when its confidence reaches the answer threshold and no
    other service's entry is about as likely, or when it is worth offering at all, leads
    every other entry by ``clear_lead`` and no other entry has as much direct evidence
    (confidence): a clarifying question would then offer a single real choice. A bare
    name such as "社保" has no such entry: the learned models alone cannot tell which of
    its entries is meant.
    """
    best = ranking.best
    if best is None or best.confidence < settings.clarify_threshold:
        return Choice(AnswerStatus.unknown)
    if best.confidence >= settings.answer_threshold and not is_ambiguous(ranking, service_of,
                                                                         settings.ambiguity_margin):
        return Choice(AnswerStatus.answered, (best,))
    if lead(ranking) >= settings.clear_lead and all(c.confidence < best.confidence for c in ranking.candidates[1:]):
        return Choice(AnswerStatus.answered, (best,))
    return Choice(AnswerStatus.clarify, clarification(ranking, service_of, settings))


def decide(knowledge: KnowledgeBase, request: AnswerRequest, settings: FaqSettings) -> AnswerRead:
    """Chooses between answering, asking which entry was meant, and admitting it does not know."""
    if request.entry_id:
        if request.entry_id.startswith("booking."):
            booking = answer_booking(knowledge, request.entry_id.removeprefix("booking."))
            if booking is not None:
                return booking
        if request.entry_id.startswith("where."):
            where = answer_where(knowledge, request.entry_id.removeprefix("where."))
            if where is not None:
                return where
        aspect, _, service_id = request.entry_id.partition(".")
        if aspect in CATALOGUE_ASPECTS and service_id:
            built_in = answer_aspect(knowledge, aspect, service_id)
            if built_in is not None:
                return built_in
        if request.entry_id.startswith("online."):
            online = answer_online(knowledge, request.entry_id.removeprefix("online."))
            if online is not None:
                return online
        elif request.entry_id in knowledge.entries:
            return answer_entry(knowledge, knowledge.entries[request.entry_id], 1.0)
    question = request.text[:settings.max_question_chars]
    if not clean_text(question):
        return AnswerRead(status=AnswerStatus.unknown, text=text("faq", "ask_question"))
    ranking = knowledge.matcher.rank(question, request.current_service, limit=RANKED)
    service_of = {entry_id: entry.service for entry_id, entry in knowledge.entries.items()}
    choice = choose(ranking, service_of, settings)
    booking = asks_booking_of(question, ranking, choice, knowledge)
    if booking is not None:
        reply = answer_booking(knowledge, booking)
        if reply is not None:
            return reply
    where = asks_where_of(ranking, choice, service_of)
    if where is not None:
        # Every service's hall and window are in the catalogue, whether or not an entry says so.
        reply = answer_where(knowledge, where)
        if reply is not None:
            return reply
    asked_aspect = asks_aspect_of(ranking, choice, service_of)
    if asked_aspect is not None:
        reply = answer_aspect(knowledge, *asked_aspect)
        if reply is not None:
            return reply
    if choice.status == AnswerStatus.answered:
        best = choice.entries[0]
        reply = answer_entry(knowledge, knowledge.entries[best.entry_id], best.confidence)
        if len(request.text) > settings.max_question_chars:
            reply.text = f"{text('faq', 'truncated')}\n{reply.text}"
        return reply
    if choice.status == AnswerStatus.unknown:
        best = ranking.best
        return AnswerRead(status=AnswerStatus.unknown, confidence=round(best.confidence if best else 0.0, 4),
                          text=text("faq", "unknown"))
    services = {knowledge.entries[c.entry_id].service for c in choice.entries}
    entries = [knowledge.entries[c.entry_id] for c in choice.entries]
    return AnswerRead(
        status=AnswerStatus.clarify, confidence=round(min(choice.entries[0].confidence, 1.0), 4),
        service=services.pop() if len(services) == 1 else None,
        text=text("faq", "clarify"),
        buttons=[{"title": entry.title, "payload": choose_payload(entry.id)} for entry in entries],
        candidates=[Candidate(entry_id=entry.id, title=entry.title) for entry in entries],
    )


def answer_question(*, knowledge: KnowledgeBase, request: AnswerRequest, settings: FaqSettings,
                    log: Callable[[FaqQuery], None]) -> AnswerRead:
    """Answers one message, counts misses in a row, offers a person after too many, and hands the log row to ``log``."""
    reply = decide(knowledge, request, settings)
    if reply.status == AnswerStatus.answered:
        reply.miss_count = 0
    else:
        reply.miss_count = request.miss_count + 1
        if reply.miss_count >= settings.misses_before_human:
            reply.offer_human = True
            reply.text = f"{reply.text}\n{text('faq', 'offer_human')}"
            reply.buttons = [*reply.buttons, human_button()]
    if clean_text(request.text) and not request.entry_id:
        log(question_row(conversation_id=request.conversation_id, question=request.text,
                         status=reply.status, entry_id=reply.entry_id, service=reply.service,
                         confidence=reply.confidence))
    return reply
