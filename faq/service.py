"""Storing FAQ questions (PII masked) and reporting on them."""

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.components.normalization import normalize_text
from faq.enums import AnswerStatus
from faq.models import FaqQuery, FaqReport, ReportRow

MAX_LOGGED_CHARS = 500
# Order matters: an ID number contains digit runs a phone pattern would also match.
PII_PATTERNS = (
    (re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[0-9Xx](?![0-9A-Za-z])"),
     "[身份证号]"),
    (re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"), "[手机号]"),
    (re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"), "[电话]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[邮箱]"),
    (re.compile(r"\d{8,}"), "[号码]"),
)


def mask_pii(text: str) -> str:
    """Replaces ID numbers, phone numbers, e-mail addresses and long digit runs with labels."""
    masked = normalize_text(text)
    for pattern, label in PII_PATTERNS:
        masked = pattern.sub(label, masked)
    return masked


def log_question(*, db_session: Session, conversation_id: str | None, question: str, status: AnswerStatus,
                 entry_id: str | None, service: str | None, confidence: float) -> FaqQuery:
    """Records one question with its PII masked."""
    row = FaqQuery(conversation_id=conversation_id, question=mask_pii(question)[:MAX_LOGGED_CHARS],
                   status=status, entry_id=entry_id, service=service, confidence=confidence)
    db_session.add(row)
    db_session.flush()
    return row


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
