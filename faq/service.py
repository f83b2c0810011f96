"""Storing FAQ questions (PII masked) and reporting on them."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.components.normalization import normalize_text
from faq.enums import AnswerStatus
from faq.models import FaqQuery, FaqReport, ReportRow
from service.pii import mask_text

MAX_LOGGED_CHARS = 500


def question_row(*, conversation_id: str | None, question: str, status: AnswerStatus,
                 entry_id: str | None, service: str | None, confidence: float) -> FaqQuery:
    """The log row of one question, normalised (half-width, simplified) and with its PII masked."""
    masked = mask_text(normalize_text(question))
    return FaqQuery(conversation_id=conversation_id, question=masked[:MAX_LOGGED_CHARS], status=status,
                    entry_id=entry_id, service=service, confidence=confidence)


def get_report(*, db_session: Session, titles: dict[str, str], limit: int) -> FaqReport:
    """Most asked entries and most frequent unanswered (or unclear) questions."""
    counts = dict(db_session.execute(select(FaqQuery.status, func.count()).group_by(FaqQuery.status)).all())
    asked = db_session.execute(
        select(FaqQuery.entry_id, func.count().label("n"))
        .where(FaqQuery.status == AnswerStatus.answered, FaqQuery.entry_id.is_not(None))
        .group_by(FaqQuery.entry_id).order_by(func.count().desc(), FaqQuery.entry_id).limit(limit)
    ).all()
    missed = db_session.execute(
        select(FaqQuery.question, func.count().label("n"))
        .where(FaqQuery.status.in_([AnswerStatus.unknown, AnswerStatus.clarify]))
        .group_by(FaqQuery.question).order_by(func.count().desc(), FaqQuery.question).limit(limit)
    ).all()
    return FaqReport(
        total_questions=sum(counts.values()),
        answered=counts.get(AnswerStatus.answered, 0),
        clarified=counts.get(AnswerStatus.clarify, 0),
        unanswered=counts.get(AnswerStatus.unknown, 0),
        top_entries=[ReportRow(key=str(entry_id), title=titles.get(str(entry_id)), count=n) for entry_id, n in asked],
        top_unanswered=[ReportRow(key=question, count=n) for question, n in missed],
    )
