"""Risk signals: urgency against the deadlines, repeat complaints escalated to a supervisor, hotspots."""

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from complaints import service as complaint_service
from complaints.categories import category_label
from complaints.clock import as_utc
from complaints.enums import OPEN_STATUSES, ComplaintStatus, EscalationReason, EventKind, Urgency
from complaints.models import Complaint, ComplaintEscalation
from complaints.settings import ComplaintSettings
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


def urgency(complaint: Complaint, now: datetime, settings: ComplaintSettings) -> Urgency:
    """Classifies an open ticket: overdue, due within the warning window, on track, or nothing due."""
    due = current_due(complaint)
    if due is None:
        return Urgency.none
    if as_utc(now) > due:
        return Urgency.overdue
    if due - as_utc(now) <= timedelta(minutes=settings.due_soon_minutes):
        return Urgency.due_soon
    return Urgency.on_track


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
    escalations = []
    by_citizen = [c.number for c in earlier if complaint.mobile and c.mobile == complaint.mobile]
    by_window = [c.number for c in earlier
                 if complaint.window and c.window == complaint.window and c.category == complaint.category]
    for reason, numbers in ((EscalationReason.repeat_citizen, by_citizen), (EscalationReason.repeat_window, by_window)):
        if not numbers:
            continue
        escalation = ComplaintEscalation(complaint_id=complaint.id, reason=reason, related_numbers=numbers,
                                         created_at=now)
        db_session.add(escalation)
        escalations.append(escalation)
        complaint_service.add_event(
            db_session=db_session, complaint=complaint, kind=EventKind.escalated, actor="system",
            text=t("complaints", f"escalation.{reason}") + "：" + "、".join(numbers), now=now,
        )
    if escalations:
        complaint.is_repeat = True
        complaint.escalated = True
        db_session.flush()
    return escalations


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
