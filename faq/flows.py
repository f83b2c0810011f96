"""Answering a citizen's question: match, decide, render, remember misses, log.

Only knowledge-base text is ever rendered as a template. The citizen's text is
matched against the questions and stored masked in the log; it is never put
into a reply, so ``{fee}``, ``{{ }}`` or ``<script>`` typed by a citizen cannot
come back as anything.
"""

from sqlalchemy.orm import Session

from faq.enums import AnswerStatus
from faq.knowledge import FaqEntry
from faq.knowledge_base import KnowledgeBase
from faq.matcher import Ranking, clean_text
from faq.models import AnswerRead, AnswerRequest, Candidate, EntryRead
from faq.render import book_payload, choose_payload, entry_buttons, online_entry_id, render_template
from faq.service import log_question
from faq.settings import FaqSettings
from service.texts import load_texts, text

CLARIFY_CANDIDATES = 3


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


def is_ambiguous(ranking: Ranking, knowledge: KnowledgeBase, margin: float) -> bool:
    """The runner-up is about as likely as the best and concerns a different service."""
    if len(ranking.candidates) < 2:
        return False
    best, second = ranking.candidates[0], ranking.candidates[1]
    different = knowledge.entries[best.entry_id].service != knowledge.entries[second.entry_id].service
    return different and best.score - second.score < margin


def decide(knowledge: KnowledgeBase, request: AnswerRequest, settings: FaqSettings) -> AnswerRead:
    """Chooses between answering, asking which entry was meant, and admitting it does not know."""
    if request.entry_id:
        if request.entry_id.startswith("online."):
            online = answer_online(knowledge, request.entry_id.removeprefix("online."))
            if online is not None:
                return online
        elif request.entry_id in knowledge.entries:
            return answer_entry(knowledge, knowledge.entries[request.entry_id], 1.0)
    question = request.text[:settings.max_question_chars]
    if not clean_text(question):
        return AnswerRead(status=AnswerStatus.unknown, text=text("faq", "ask_question"))
    ranking = knowledge.matcher.rank(question, request.current_service)
    best = ranking.best
    if best and best.confidence >= settings.answer_threshold and not is_ambiguous(ranking, knowledge,
                                                                                  settings.ambiguity_margin):
        reply = answer_entry(knowledge, knowledge.entries[best.entry_id], best.confidence)
        if len(request.text) > settings.max_question_chars:
            reply.text = f"{text('faq', 'truncated')}\n{reply.text}"
        return reply
    offered = [c for c in ranking.candidates if c.confidence >= settings.clarify_threshold][:CLARIFY_CANDIDATES]
    if not offered:
        return AnswerRead(status=AnswerStatus.unknown, confidence=round(best.confidence if best else 0.0, 4),
                          text=text("faq", "unknown"))
    services = {knowledge.entries[c.entry_id].service for c in offered}
    entries = [knowledge.entries[c.entry_id] for c in offered]
    return AnswerRead(
        status=AnswerStatus.clarify, confidence=round(min(offered[0].confidence, 1.0), 4),
        service=services.pop() if len(services) == 1 else None,
        text=text("faq", "clarify"),
        buttons=[{"title": entry.title, "payload": choose_payload(entry.id)} for entry in entries],
        candidates=[Candidate(entry_id=entry.id, title=entry.title) for entry in entries],
    )


def answer_question(*, db_session: Session, knowledge: KnowledgeBase, request: AnswerRequest,
                    settings: FaqSettings) -> AnswerRead:
    """Answers one message, counts misses in a row, offers a person after too many, and logs it."""
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
        log_question(db_session=db_session, conversation_id=request.conversation_id, question=request.text,
                     status=reply.status, entry_id=reply.entry_id, service=reply.service,
                     confidence=reply.confidence)
    return reply
