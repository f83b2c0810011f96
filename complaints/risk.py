"""Risk signals: urgency against the deadlines, repeat complaints escalated to a supervisor, hotspots."""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from complaints import service as complaint_service
from complaints.categories import category_label
from complaints.clock import as_utc
from complaints.enums import (
    OPEN_STATUSES,
    ClockState,
    ComplaintStatus,
    Deadline,
    EscalationReason,
    EventKind,
    Urgency,
)
from complaints.models import Complaint, ComplaintEscalation, DeadlineClockRead
from complaints.settings import ComplaintSettings
from service.errors import NotFoundError
from service.texts import text as t

_URGENCY_ORDER = {Urgency.overdue: 0, Urgency.due_soon: 1, Urgency.on_track: 2, Urgency.none: 3}


def current_due(complaint: Complaint) -> datetime | None:
    """Returns the deadline the ticket is running against now, if any."""
    if complaint.status not in OPEN_STATUSES:
        return None
    if complaint.first_response_at is None:
        return as_utc(complaint.first_response_due)
    if complaint.plan_at is None:
        return as_utc(complaint.plan_due)
    return None


def _running_state(due: datetime, now: datetime, settings: ComplaintSettings) -> ClockState:
    """How a deadline not yet met stands now: overdue, due within the warning window, or on track."""
    if as_utc(now) > due:
        return ClockState.overdue
    if due - as_utc(now) <= timedelta(minutes=settings.due_soon_minutes):
        return ClockState.due_soon
    return ClockState.on_track


def urgency(complaint: Complaint, now: datetime, settings: ComplaintSettings) -> Urgency:
    """Classifies an open ticket: overdue, due within the warning window, on track, or nothing due."""
    due = current_due(complaint)
    if due is None:
        return Urgency.none
    return Urgency(_running_state(due, now, settings).value)


def deadline_clocks(complaint: Complaint, now: datetime, settings: ComplaintSettings) -> list[DeadlineClockRead]:
    """Both deadlines of a ticket: met or late once the step is taken, else running (or stopped if it finished)."""
    clocks = []
    for deadline, due, done in ((Deadline.first_response, complaint.first_response_due, complaint.first_response_at),
                                (Deadline.plan, complaint.plan_due, complaint.plan_at)):
        due_at, done_at = as_utc(due), as_utc(done) if done else None
        seconds_left = None
        if done_at is not None:
            state = ClockState.met if done_at <= due_at else ClockState.late
        elif complaint.status not in OPEN_STATUSES:
            state = ClockState.stopped
        else:
            state = _running_state(due_at, now, settings)
            seconds_left = int((due_at - as_utc(now)).total_seconds())
        clocks.append(DeadlineClockRead(deadline=deadline, due_at=due_at, done_at=done_at, state=state,
                                        seconds_left=seconds_left))
    return clocks


def sort_by_urgency(complaints: list[Complaint], now: datetime, settings: ComplaintSettings) -> list[Complaint]:
    """Orders tickets overdue first, then due soon, then by nearest deadline; escalated ones lead within a group."""
    far = as_utc(now) + timedelta(days=3650)
    return sorted(complaints, key=lambda c: (_URGENCY_ORDER[urgency(c, now, settings)], not c.escalated,
                                             current_due(c) or far, c.number))


def detect_repeats(*, db_session: Session, complaint: Complaint, now: datetime,
                   settings: ComplaintSettings) -> list[ComplaintEscalation]:
    """Flags a ticket that repeats an earlier one (same mobile, or same window and category) and escalates it."""
    since = complaint_service.window_start(now, settings.repeat_window_days)
    conditions = []
    if complaint.mobile:
        conditions.append(Complaint.mobile == complaint.mobile)
    if complaint.window:
        conditions.append((Complaint.window == complaint.window) & (Complaint.category == complaint.category))
    if not conditions:
        return []
    earlier = list(db_session.scalars(
        select(Complaint).where(Complaint.id != complaint.id, Complaint.submitted_at >= since, or_(*conditions))
        .order_by(Complaint.submitted_at)
    ))
    escalations: list[ComplaintEscalation] = []
    by_citizen = [c.number for c in earlier if complaint.mobile and c.mobile == complaint.mobile]
    by_window = [c.number for c in earlier
                 if complaint.window and c.window == complaint.window and c.category == complaint.category]
    for reason, numbers in ((EscalationReason.repeat_citizen, by_citizen), (EscalationReason.repeat_window, by_window)):
        if numbers:
            escalations.append(escalate(db_session=db_session, complaint=complaint, reason=reason, now=now,
                                        related_numbers=numbers))
    if escalations:
        complaint.is_repeat = True
        db_session.flush()
    return escalations


def escalate(*, db_session: Session, complaint: Complaint, reason: EscalationReason, now: datetime,
             related_numbers: list[str] | None = None) -> ComplaintEscalation:
    """Asks a supervisor to look at a ticket, for a reason, and says so in its history."""
    escalation = ComplaintEscalation(complaint_id=complaint.id, reason=reason, related_numbers=related_numbers or [],
                                     created_at=now)
    db_session.add(escalation)
    complaint.escalated = True
    text = t("complaints", f"escalation.{reason}")
    complaint_service.add_event(db_session=db_session, complaint=complaint, kind=EventKind.escalated,
                                actor="system", text=text + ("：" + "、".join(related_numbers)
                                                             if related_numbers else ""), now=now)
    return escalation


def escalations_of(*, db_session: Session, complaint: Complaint) -> list[ComplaintEscalation]:
    """Every escalation of one ticket, oldest first."""
    return list(db_session.scalars(select(ComplaintEscalation).where(ComplaintEscalation.complaint_id == complaint.id)
                                   .order_by(ComplaintEscalation.id)))


def acknowledge_escalation(*, db_session: Session, escalation_id: int, actor: str,
                           now: datetime) -> ComplaintEscalation:
    """Marks an escalation as seen by a supervisor (404 when there is no such escalation)."""
    escalation = db_session.get(ComplaintEscalation, escalation_id)
    if escalation is None:
        raise NotFoundError("no such escalation", code="not_found")
    escalation.acknowledged_by, escalation.acknowledged_at = actor, now
    db_session.flush()
    return escalation


def open_escalations(*, db_session: Session) -> list[tuple[ComplaintEscalation, Complaint]]:
    """Lists escalations no supervisor has acknowledged yet, newest first."""
    rows = db_session.execute(
        select(ComplaintEscalation, Complaint).join(Complaint, Complaint.id == ComplaintEscalation.complaint_id)
        .where(ComplaintEscalation.acknowledged_at.is_(None)).order_by(ComplaintEscalation.created_at.desc())
    )
    return [(row[0], row[1]) for row in rows]


def iso_week(moment: datetime, timezone: str) -> str:
    """Returns the local ISO week, e.g. 2026-W47."""
    year, week, _ = moment.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def hotspots(*, db_session: Session, since: datetime, until: datetime, timezone: str) -> list[dict[str, object]]:
    """Counts tickets by category, window and ISO week, busiest first."""
    counts: Counter[tuple[str, str, str]] = Counter()
    overdue_or_repeat: Counter[tuple[str, str, str]] = Counter()
    for complaint in complaint_service.get_since(db_session=db_session, since=since, until=until):
        key = (complaint.category, complaint.window or "", iso_week(as_utc(complaint.submitted_at), timezone))
        counts[key] += 1
        if complaint.is_repeat:
            overdue_or_repeat[key] += 1
    return [
        {"category": category, "category_label": category_label(category), "window": window or None,
         "week": week, "count": count, "repeats": overdue_or_repeat[(category, window, week)]}
        for (category, window, week), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def still_open(status: str) -> bool:
    """Tells whether a status counts as open for Open311 and the console."""
    return ComplaintStatus(status) in OPEN_STATUSES
