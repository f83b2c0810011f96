"""Database functions of the complaints domain: numbering, tickets, history steps, lookups."""

import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from complaints.clock import as_utc
from complaints.deadlines import compute_deadlines
from complaints.enums import OPEN_STATUSES, ComplaintStatus, EventKind
from complaints.models import (
    Complaint,
    ComplaintCreate,
    ComplaintDayCounter,
    ComplaintEvent,
)
from complaints.settings import ComplaintSettings
from service.errors import ConflictError, NotFoundError, ServiceError

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Staff notes that staff may mark public; the citizen's own words (info, withdrawal reason) never are.
PUBLIC_NOTE_EVENTS = (EventKind.first_response, EventKind.plan, EventKind.resolution, EventKind.closed)


def _chinese_number(value: str) -> int | None:
    """Reads 1..99 written as 三, 十二, 二十五."""
    if value.isdigit():
        return int(value)
    if "十" in value:
        tens, _, ones = value.partition("十")
        high = _CN_DIGITS.get(tens, 0) if tens else 1
        low = _CN_DIGITS.get(ones, 0) if ones else 0
        return high * 10 + low
    if len(value) == 1 and value in _CN_DIGITS:
        return _CN_DIGITS[value]
    return None


def extract_window(*texts: str | None) -> str | None:
    """Finds a service window number (12号窗口, 三号窗口, 窗口7) in the citizen's words."""
    for words in texts:
        if not words:
            continue
        for match in re.finditer(r"([0-9]{1,3}|[一二两三四五六七八九十]{1,3})\s*号\s*窗口|窗口\s*([0-9]{1,3})\s*号?", words):
            number = _chinese_number(match.group(1) or match.group(2))
            if number:
                return str(number)
    return None


def check_text(value: str, *, field: str, min_chars: int, max_chars: int) -> str:
    """Rejects empty, too short or too long text; keeps markup exactly as given (it is escaped on output)."""
    cleaned = _CONTROL_CHARS.sub("", value).strip()
    if not cleaned:
        raise ServiceError(f"{field} is empty", code="empty_text", status_code=422, details={"field": field})
    if len(cleaned) < min_chars:
        raise ServiceError(f"{field} is shorter than {min_chars} characters", code="text_too_short",
                           status_code=422, details={"field": field, "min_chars": min_chars})
    if len(cleaned) > max_chars:
        raise ServiceError(f"{field} is longer than {max_chars} characters", code="text_too_long",
                           status_code=422, details={"field": field, "max_chars": max_chars, "length": len(cleaned)})
    return cleaned


def allocate_number(*, db_session: Session, now: datetime, timezone: str) -> str:
    """Hands out the next ticket number of the local day, TS<yyyymmdd>-<seq>, atomically."""
    day = now.astimezone(ZoneInfo(timezone)).strftime("%Y%m%d")
    bump = (update(ComplaintDayCounter).where(ComplaintDayCounter.day == day)
            .values(last_seq=ComplaintDayCounter.last_seq + 1).returning(ComplaintDayCounter.last_seq))
    seq = db_session.execute(bump).scalar_one_or_none()
    if seq is None:
        try:
            with db_session.begin_nested():
                db_session.add(ComplaintDayCounter(day=day, last_seq=1))
            seq = 1
        except IntegrityError:
            # Another transaction created the day's row first: take the next number from it.
            seq = db_session.execute(bump).scalar_one()
    return f"TS{day}-{seq:04d}"


def create(*, db_session: Session, complaint_in: ComplaintCreate, now: datetime, settings: ComplaintSettings,
           timezone: str) -> Complaint:
    """Files a ticket with its number, deadlines and first history step."""
    description = check_text(complaint_in.description, field="description",
                             min_chars=settings.description_min_chars, max_chars=settings.description_max_chars)
    anonymous = complaint_in.anonymous or complaint_in.mobile is None
    first_due, plan_due = compute_deadlines(now, settings)
    complaint = Complaint(
        number=allocate_number(db_session=db_session, now=now, timezone=timezone),
        category=complaint_in.category,
        description=description,
        location=complaint_in.location,
        occurred=complaint_in.occurred,
        window=complaint_in.window or extract_window(complaint_in.location, description),
        mobile=None if complaint_in.anonymous else complaint_in.mobile,
        anonymous=anonymous,
        lookup_code=f"{secrets.randbelow(10000):04d}" if anonymous else None,
        contact_name=complaint_in.contact_name,
        email=complaint_in.email,
        lat=complaint_in.lat,
        long=complaint_in.long,
        media_url=complaint_in.media_url,
        source=complaint_in.source,
        conversation_id=complaint_in.conversation_id,
        status=ComplaintStatus.submitted,
        submitted_at=now,
        updated_at=now,
        first_response_due=first_due,
        plan_due=plan_due,
    )
    db_session.add(complaint)
    db_session.flush()
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.submitted, actor="citizen",
              text=None, now=now)
    return complaint


def add_event(*, db_session: Session, complaint: Complaint, kind: EventKind, actor: str, text: str | None,
              now: datetime, is_public: bool = False) -> ComplaintEvent:
    """Appends a step to a ticket's history; only a staff note with text can be public."""
    event = ComplaintEvent(complaint_id=complaint.id, kind=kind, actor=actor, text=text, created_at=now,
                           is_public=bool(is_public and text and kind in PUBLIC_NOTE_EVENTS))
    complaint.events.append(event)
    complaint.updated_at = now
    db_session.flush()
    return event


def get_by_number(*, db_session: Session, number: str) -> Complaint | None:
    """Gets a ticket by its number (case-insensitive)."""
    return db_session.scalar(select(Complaint).where(Complaint.number == number.strip().upper()))


def get_by_number_or_404(*, db_session: Session, number: str) -> Complaint:
    """Gets a ticket by its number or raises 404."""
    complaint = get_by_number(db_session=db_session, number=number)
    if complaint is None:
        raise NotFoundError("no complaint with this number", code="complaint_not_found")
    return complaint


def get_all(*, db_session: Session, statuses: list[ComplaintStatus] | None = None, limit: int = 500) -> list[Complaint]:
    """Gets tickets, optionally only in some statuses, newest first."""
    query = select(Complaint).order_by(Complaint.submitted_at.desc()).limit(limit)
    if statuses:
        query = query.where(Complaint.status.in_([str(s) for s in statuses]))
    return list(db_session.scalars(query))


def get_since(*, db_session: Session, since: datetime, until: datetime | None = None) -> list[Complaint]:
    """Gets tickets submitted in a time range."""
    query = select(Complaint).where(Complaint.submitted_at >= since)
    if until is not None:
        query = query.where(Complaint.submitted_at <= until)
    return list(db_session.scalars(query.order_by(Complaint.submitted_at)))


def require_open(complaint: Complaint) -> None:
    """Refuses steps on a ticket that is resolved, closed or withdrawn."""
    if complaint.status not in OPEN_STATUSES:
        raise ConflictError(f"complaint is {complaint.status}", code="complaint_not_open",
                            details={"status": complaint.status})


def record_first_response(*, db_session: Session, complaint: Complaint, actor: str, text: str,
                          now: datetime, is_public: bool = False) -> None:
    """Records the first response to the citizen."""
    if complaint.status != ComplaintStatus.submitted:
        raise ConflictError("the first response is already recorded", code="already_acknowledged",
                            details={"status": complaint.status})
    complaint.status = ComplaintStatus.acknowledged
    complaint.first_response_at = now
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.first_response, actor=actor,
              text=text, now=now, is_public=is_public)


def record_plan(*, db_session: Session, complaint: Complaint, actor: str, text: str, now: datetime,
                is_public: bool = False) -> None:
    """Records the resolution plan; a plan given straight away also counts as the first response."""
    require_open(complaint)
    if complaint.status == ComplaintStatus.plan_given:
        raise ConflictError("a plan is already recorded", code="plan_already_given")
    complaint.first_response_at = complaint.first_response_at or now
    complaint.status = ComplaintStatus.plan_given
    complaint.plan_at = now
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.plan, actor=actor, text=text, now=now,
              is_public=is_public)


def record_resolution(*, db_session: Session, complaint: Complaint, actor: str, text: str, now: datetime,
                      is_public: bool = False) -> None:
    """Records how the complaint was resolved."""
    require_open(complaint)
    complaint.first_response_at = complaint.first_response_at or now
    complaint.plan_at = complaint.plan_at or now
    complaint.status = ComplaintStatus.resolved
    complaint.resolved_at = now
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.resolution, actor=actor, text=text,
              now=now, is_public=is_public)


def close(*, db_session: Session, complaint: Complaint, actor: str, text: str | None, now: datetime,
          is_public: bool = False) -> None:
    """Closes a resolved ticket."""
    if complaint.status != ComplaintStatus.resolved:
        raise ConflictError("only a resolved complaint can be closed", code="complaint_not_resolved",
                            details={"status": complaint.status})
    complaint.status = ComplaintStatus.closed
    complaint.closed_at = now
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.closed, actor=actor, text=text, now=now,
              is_public=is_public)


def assign(*, db_session: Session, complaint: Complaint, actor: str, assignee: str, now: datetime) -> None:
    """Gives a ticket to a member of staff."""
    require_open(complaint)
    complaint.assignee = assignee
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.assigned, actor=actor, text=assignee,
              now=now)


def add_note(*, db_session: Session, complaint: Complaint, actor: str, text: str, now: datetime) -> None:
    """Adds an internal staff note to a ticket in any state; the citizen never sees it."""
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.note, actor=actor, text=text, now=now)


def withdraw(*, db_session: Session, complaint: Complaint, reason: str | None, now: datetime) -> None:
    """Withdraws an open ticket at the citizen's request."""
    require_open(complaint)
    complaint.status = ComplaintStatus.withdrawn
    complaint.closed_at = now
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.withdrawn, actor="citizen", text=reason,
              now=now)


def add_citizen_info(*, db_session: Session, complaint: Complaint, text: str, now: datetime) -> None:
    """Adds the citizen's further information to an open ticket."""
    require_open(complaint)
    add_event(db_session=db_session, complaint=complaint, kind=EventKind.citizen_info, actor="citizen", text=text,
              now=now)


def filed_by(complaint: Complaint, requester: str) -> bool:
    """Whether the chat conversation asking is the one that filed the ticket."""
    return bool(complaint.conversation_id) and secrets.compare_digest(
        str(complaint.conversation_id).encode(), requester[:64].encode())


def verification_matches(complaint: Complaint, verification: str | None) -> bool:
    """Checks the four digits: the mobile's last four, or the lookup code of an anonymous ticket."""
    expected = complaint.mobile[-4:] if complaint.mobile else complaint.lookup_code
    given = (verification or "").strip()
    return bool(expected) and secrets.compare_digest(given.encode(), str(expected).encode())


def window_start(now: datetime, days: int) -> datetime:
    """Returns the start of a look-back window."""
    return as_utc(now) - timedelta(days=days)
