"""The dashboard's KPI queries: pure functions of a database session and a period, returning plain dicts.

Every time is stored in UTC; a period's buckets are local days or ISO weeks
(dashboard.periods). Counting is done in SQL with a CASE that names each row's
bucket, wrapped in a subquery before grouping so PostgreSQL and SQLite read the
same statement; waits and percentiles are worked out in Python on the few
hundred rows a period holds.

Definitions, as the page's help text states them:
- a *conversation* is counted once per bucket in which the citizen wrote in it
  (a WeChat follower keeps one conversation for ever, so counting rows would
  undercount); it is *contained* when no handoff ticket of it was opened in
  that bucket: the bot finished it without a person. Target: 70 %.
- *first-response time*: from a conversation's first citizen message in a
  bucket to the first bot or agent message after it.
- *error rate* (accuracy): the share of FAQ questions answered "unknown", or
  answered with a clarifying question after which the same conversation got no
  answered FAQ reply within ABANDON_AFTER ("clarified and abandoned").
- *queue wait*: claimed_at - created_at of each claimed ticket; *handling
  time*: closed_at - claimed_at of each closed ticket, per agent.
- percentiles interpolate linearly between the nearest ranks (as a
  spreadsheet's PERCENTILE.INC does).
- complaint *compliance*: a step is on time when it was recorded by its stored
  deadline (computed by complaints.deadlines when filed), late when recorded
  after it or still missing on an open ticket whose deadline has passed
  (complaints.risk calls that overdue); not yet due, or a ticket withdrawn
  before it, counts neither way.
- *no-show rate*: no-shows / (checked in + no-shows) of the bookings whose
  appointment day lies in the bucket; bookings not yet marked are left out.
"""

import bisect
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from appointments.enums import BookingStatus
from appointments.models import Booking
from appointments.offices import OfficeDirectory
from complaints import risk
from complaints import service as complaint_service
from complaints.categories import category_label
from complaints.clock import as_utc
from complaints.deadlines import span_phrase
from complaints.enums import OPEN_STATUSES, Urgency
from complaints.models import Complaint
from complaints.settings import ComplaintSettings
from conversations.enums import Sender
from conversations.models import Message
from dashboard.periods import Period
from faq.enums import AnswerStatus
from faq.models import FaqQuery
from handoff.enums import HandoffReason, TicketStatus
from handoff.models import HandoffTicket, TicketRating
from service.texts import text
from staff.models import StaffMember

# The service standard: the bot handles at least 70 % of routine inquiries alone.
CONTAINMENT_TARGET = 0.7
ABANDON_AFTER = timedelta(minutes=10)
TOP_LIMIT = 10
OVERDUE_LIMIT = 50
RATINGS = (1, 2, 3, 4, 5)


def rate(part: int, whole: int) -> float | None:
    """A share rounded to four places, or None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def percentile(values: list[float], share: float) -> float | None:
    """The value at a share (0..1) of the sorted values, interpolated between the nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 1)


def mean(values: list[float], places: int = 1) -> float | None:
    """The average, rounded, or None for no values."""
    return round(sum(values) / len(values), places) if values else None


def _seconds(later: datetime, earlier: datetime) -> float:
    return (as_utc(later) - as_utc(earlier)).total_seconds()


def _bucket_of(column: Any, period: Period) -> Any:
    """A CASE naming the bucket (0..n-1) of a timestamp column's row, for rows inside the period."""
    return case(*[(column < bucket.end, index) for index, bucket in enumerate(period.buckets)])


def _in_period(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _counts(db_session: Session, period: Period, column: Any, key: Any, *where: Any) -> dict[tuple[int, Any], int]:
    """Counts rows per (bucket, key) of the rows whose ``column`` lies in the period."""
    inner = (select(_bucket_of(column, period).label("bucket"), key.label("key"))
             .where(_in_period(column, period), *where).subquery())
    rows = db_session.execute(select(inner.c.bucket, inner.c.key, func.count())
                              .group_by(inner.c.bucket, inner.c.key))
    return {(int(bucket), key_value): int(count) for bucket, key_value, count in rows}


def _series(period: Period, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"bucket": bucket.key, **row} for bucket, row in zip(period.buckets, rows)]


def conversation_figures(*, db_session: Session, period: Period) -> dict[str, Any]:
    """Conversations per bucket, how many a person took over, containment and first-response time."""
    active = (select(Message.conversation_id.label("cid"), _bucket_of(Message.created_at, period).label("bucket"))
              .where(Message.sender == Sender.citizen, _in_period(Message.created_at, period)).distinct().subquery())
    handed = (select(HandoffTicket.conversation_id.label("cid"),
                     _bucket_of(HandoffTicket.created_at, period).label("bucket"))
              .where(_in_period(HandoffTicket.created_at, period)).distinct().subquery())
    joined = active.outerjoin(handed, and_(active.c.cid == handed.c.cid, active.c.bucket == handed.c.bucket))
    counted = {int(bucket): (int(total), int(taken)) for bucket, total, taken in db_session.execute(
        select(active.c.bucket, func.count(), func.count(handed.c.cid)).select_from(joined).group_by(active.c.bucket))}
    waits = _first_responses(db_session, period)
    rows: list[dict[str, Any]] = []
    for index in range(len(period.buckets)):
        total, taken = counted.get(index, (0, 0))
        rows.append({"conversations": total, "handed_over": taken, "contained": total - taken,
                     "containment": rate(total - taken, total), "target": CONTAINMENT_TARGET,
                     "first_response_seconds": mean(waits[index], 2)})
    total = sum(r["conversations"] for r in rows)
    contained = sum(r["contained"] for r in rows)
    every_wait = [w for index in waits for w in waits[index]]
    return {"target": CONTAINMENT_TARGET, "series": _series(period, rows),
            "total": {"conversations": total, "handed_over": total - contained, "contained": contained,
                      "containment": rate(contained, total), "first_response_seconds": mean(every_wait, 2)}}


def _first_responses(db_session: Session, period: Period) -> dict[int, list[float]]:
    """Seconds from each conversation's first citizen message in a bucket to the first reply after it."""
    citizen = (select(Message.conversation_id.label("cid"), _bucket_of(Message.created_at, period).label("bucket"),
                      Message.seq.label("seq"))
               .where(Message.sender == Sender.citizen, _in_period(Message.created_at, period)).subquery())
    firsts = (select(citizen.c.cid, citizen.c.bucket, func.min(citizen.c.seq).label("seq"))
              .group_by(citizen.c.cid, citizen.c.bucket).subquery())
    asked, reply = aliased(Message), aliased(Message)
    first_reply = (select(func.min(reply.created_at))
                   .where(reply.conversation_id == firsts.c.cid, reply.seq > firsts.c.seq,
                          reply.sender.in_([Sender.bot, Sender.agent]))
                   .scalar_subquery())
    rows = db_session.execute(
        select(firsts.c.bucket, asked.created_at, first_reply)
        .join(asked, and_(asked.conversation_id == firsts.c.cid, asked.seq == firsts.c.seq)))
    waits: dict[int, list[float]] = defaultdict(list)
    for bucket, asked_at, replied_at in rows:
        if replied_at is not None:
            waits[int(bucket)].append(_seconds(replied_at, asked_at))
    return waits


def faq_figures(*, db_session: Session, period: Period, titles: dict[str, str]) -> dict[str, Any]:
    """FAQ questions answered, clarified and unknown per bucket, the error rate, and the two top-10 lists."""
    counted = _counts(db_session, period, FaqQuery.created_at, FaqQuery.status)
    abandoned = _abandoned_clarifications(db_session, period)
    rows: list[dict[str, Any]] = []
    for index in range(len(period.buckets)):
        answered, clarified, unknown = (counted.get((index, status), 0) for status in AnswerStatus)
        total = answered + clarified + unknown
        rows.append({"answered": answered, "clarified": clarified, "unknown": unknown, "total": total,
                     "abandoned": abandoned[index], "errors": unknown + abandoned[index],
                     "error_rate": rate(unknown + abandoned[index], total)})
    totals: dict[str, Any] = {key: sum(r[key] for r in rows) for key in ("answered", "clarified", "unknown", "total", "abandoned",
                                                          "errors")}
    totals["error_rate"] = rate(totals["errors"], totals["total"])
    top = db_session.execute(
        select(FaqQuery.entry_id, func.count().label("n"))
        .where(_in_period(FaqQuery.created_at, period), FaqQuery.status == AnswerStatus.answered,
               FaqQuery.entry_id.is_not(None))
        .group_by(FaqQuery.entry_id).order_by(func.count().desc(), FaqQuery.entry_id).limit(TOP_LIMIT))
    missed = db_session.execute(
        select(FaqQuery.question, func.count().label("n"))
        .where(_in_period(FaqQuery.created_at, period),
               FaqQuery.status.in_([AnswerStatus.unknown, AnswerStatus.clarify]))
        .group_by(FaqQuery.question).order_by(func.count().desc(), FaqQuery.question).limit(TOP_LIMIT))
    return {"series": _series(period, rows), "total": totals,
            "top_questions": [{"entry_id": entry_id, "title": titles.get(str(entry_id), str(entry_id)), "count": int(n)}
                              for entry_id, n in top],
            "top_unanswered": [{"question": question, "count": int(n)} for question, n in missed]}


def _abandoned_clarifications(db_session: Session, period: Period) -> list[int]:
    """Per bucket, the clarifying questions after which the conversation got no answer within ABANDON_AFTER."""
    in_period = _in_period(FaqQuery.created_at, period)
    clarified = db_session.execute(select(FaqQuery.conversation_id, FaqQuery.created_at)
                                   .where(FaqQuery.status == AnswerStatus.clarify, in_period)).all()
    with_clarification = select(FaqQuery.conversation_id).where(
        FaqQuery.status == AnswerStatus.clarify, in_period, FaqQuery.conversation_id.is_not(None))
    answers: dict[str, list[datetime]] = defaultdict(list)
    for conversation_id, created_at in db_session.execute(
            select(FaqQuery.conversation_id, FaqQuery.created_at)
            .where(FaqQuery.status == AnswerStatus.answered, FaqQuery.created_at >= period.start,
                   FaqQuery.created_at < period.end + ABANDON_AFTER,
                   FaqQuery.conversation_id.in_(with_clarification))):
        answers[conversation_id or ""].append(as_utc(created_at))
    for times in answers.values():
        times.sort()
    abandoned = [0] * len(period.buckets)
    for conversation_id, created_at in clarified:
        asked = as_utc(created_at)
        times = answers.get(conversation_id or "", [])
        following = bisect.bisect_right(times, asked)
        if following == len(times) or times[following] > asked + ABANDON_AFTER:
            index = period.index_of_instant(asked)
            if index is not None:
                abandoned[index] += 1
    return abandoned


def handoff_figures(*, db_session: Session, period: Period, reason_labels: dict[str, str]) -> dict[str, Any]:
    """Handoffs by reason per bucket, queue wait p50/p95, and handling time per agent."""
    tickets = db_session.execute(
        select(HandoffTicket.reason, HandoffTicket.status, HandoffTicket.agent_id, HandoffTicket.created_at,
               HandoffTicket.claimed_at, HandoffTicket.closed_at)
        .where(_in_period(HandoffTicket.created_at, period))).all()
    reasons: list[Counter[str]] = [Counter() for _ in period.buckets]
    waits: list[list[float]] = [[] for _ in period.buckets]
    handling: dict[int, list[float]] = defaultdict(list)
    for ticket in tickets:
        index = period.index_of_instant(ticket.created_at)
        if index is None:
            continue
        reasons[index][ticket.reason] += 1
        if ticket.claimed_at is not None:
            waits[index].append(_seconds(ticket.claimed_at, ticket.created_at))
        if ticket.status == TicketStatus.closed and ticket.claimed_at and ticket.closed_at and ticket.agent_id:
            handling[ticket.agent_id].append(_seconds(ticket.closed_at, ticket.claimed_at))
    names: dict[int, str] = dict(db_session.execute(select(StaffMember.id, StaffMember.display_name)
                                    .where(StaffMember.id.in_(list(handling)))).all()) if handling else {}
    agents: list[dict[str, Any]] = sorted(({"agent_id": agent_id, "name": names.get(agent_id, str(agent_id)), "count": len(times),
                      "average_seconds": mean(times)} for agent_id, times in handling.items()),
                    key=lambda row: (-row["count"], row["name"]))
    every_wait = [w for bucket in waits for w in bucket]
    rows = [{**{reason.value: counts[reason] for reason in HandoffReason}, "total": sum(counts.values()),
             "claimed": len(bucket_waits), "wait_p50_seconds": percentile(bucket_waits, 0.5),
             "wait_p95_seconds": percentile(bucket_waits, 0.95)}
            for counts, bucket_waits in zip(reasons, waits)]
    return {"reasons": [{"reason": reason.value, "label": reason_labels.get(reason.value, reason.value)}
                        for reason in HandoffReason],
            "series": _series(period, rows),
            "total": {**{reason.value: sum(r[reason.value] for r in rows) for reason in HandoffReason},
                      "total": len(tickets), "claimed": len(every_wait),
                      "wait_p50_seconds": percentile(every_wait, 0.5), "wait_p95_seconds": percentile(every_wait, 0.95)},
            "agents": agents}


def satisfaction_figures(*, db_session: Session, period: Period) -> dict[str, Any]:
    """Ratings (CSAT 1..5) per bucket with their average, and their distribution over the period."""
    counted = _counts(db_session, period, TicketRating.created_at, TicketRating.rating)
    rows: list[dict[str, Any]] = []
    for index in range(len(period.buckets)):
        scores = {score: counted.get((index, score), 0) for score in RATINGS}
        count = sum(scores.values())
        rows.append({"count": count, "average": round(sum(s * n for s, n in scores.items()) / count, 2)
                     if count else None})
    distribution = {score: sum(counted.get((index, score), 0) for index in range(len(period.buckets)))
                    for score in RATINGS}
    count = sum(distribution.values())
    return {"series": _series(period, rows),
            "distribution": [{"rating": score, "count": n, "share": rate(n, count)} for score, n in distribution.items()],
            "total": {"count": count, "average": round(sum(s * n for s, n in distribution.items()) / count, 2)
                      if count else None}}


def step_outcome(done_at: datetime | None, due: datetime, status: str, now: datetime) -> str | None:
    """Whether a complaint step was on time, late (or is overdue now), or cannot be judged yet."""
    if done_at is not None:
        return "on_time" if as_utc(done_at) <= as_utc(due) else "late"
    if risk.still_open(status) and as_utc(now) > as_utc(due):
        return "late"
    return None


def _compliance(outcomes: list[str | None]) -> dict[str, Any]:
    on_time, late = outcomes.count("on_time"), outcomes.count("late")
    return {"on_time": on_time, "late": late, "share": rate(on_time, on_time + late)}


def complaint_figures(*, db_session: Session, period: Period, settings: ComplaintSettings,
                      now: datetime) -> dict[str, Any]:
    """Complaints by category and window, deadline compliance per bucket, repeats, and what is overdue now."""
    filed = complaint_service.get_since(db_session=db_session, since=period.start,
                                        until=period.end - timedelta(microseconds=1))
    per_bucket: list[list[Complaint]] = [[] for _ in period.buckets]
    for complaint in filed:
        index = period.index_of_instant(complaint.submitted_at)
        if index is not None:
            per_bucket[index].append(complaint)
    rows: list[dict[str, Any]] = []
    for complaints in per_bucket:
        rows.append({"count": len(complaints), "repeats": sum(1 for c in complaints if c.is_repeat),
                     "first_response": _compliance([step_outcome(c.first_response_at, c.first_response_due,
                                                                 c.status, now) for c in complaints]),
                     "plan": _compliance([step_outcome(c.plan_at, c.plan_due, c.status, now) for c in complaints])})
    return {"rules": {"first_response": span_phrase(settings.first_response.minutes),
                      "plan": span_phrase(settings.plan.minutes)},
            "series": _series(period, rows),
            "total": {"count": len(filed), "repeats": sum(r["repeats"] for r in rows),
                      "first_response": _compliance([step_outcome(c.first_response_at, c.first_response_due,
                                                                  c.status, now) for c in filed]),
                      "plan": _compliance([step_outcome(c.plan_at, c.plan_due, c.status, now) for c in filed])},
            "by_category": _hotspot(filed, lambda c: c.category, category_label),
            "by_window": _hotspot(filed, lambda c: c.window or "", lambda w: text("complaints", "open311_window", window=w)),
            "repeats": [_complaint_row(c, now) for c in filed if c.is_repeat],
            "overdue": overdue_complaints(db_session=db_session, settings=settings, now=now)}


def _hotspot(complaints: list[Complaint], key: Any, label: Any) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter(key(c) for c in complaints)
    repeats: Counter[str] = Counter(key(c) for c in complaints if c.is_repeat)
    return [{"key": value, "label": label(value) if value else "", "count": n, "repeats": repeats[value]}
            for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _complaint_row(complaint: Complaint, now: datetime) -> dict[str, Any]:
    due = risk.current_due(complaint)
    return {"number": complaint.number, "category": complaint.category,
            "category_label": category_label(complaint.category), "window": complaint.window,
            "status": complaint.status, "escalated": complaint.escalated,
            "submitted_at": as_utc(complaint.submitted_at).isoformat(),
            "step": ("first_response" if complaint.first_response_at is None else "plan") if due else None,
            "due": due.isoformat() if due else None,
            "overdue_minutes": int((as_utc(now) - due).total_seconds() // 60) if due and as_utc(now) > due else 0}


def overdue_complaints(*, db_session: Session, settings: ComplaintSettings, now: datetime) -> list[dict[str, Any]]:
    """Open complaints past their current deadline now, most urgent first (complaints.risk decides)."""
    open_ones = complaint_service.get_all(db_session=db_session, statuses=list(OPEN_STATUSES))
    overdue = [c for c in risk.sort_by_urgency(open_ones, now, settings)
               if risk.urgency(c, now, settings) == Urgency.overdue]
    return [_complaint_row(c, now) for c in overdue[:OVERDUE_LIMIT]]


def booking_figures(*, db_session: Session, period: Period, directory: OfficeDirectory) -> dict[str, Any]:
    """Bookings per bucket by status and the no-show rate, and the load per window over the period."""
    in_days = and_(Booking.day >= period.first_day, Booking.day <= period.last_day)
    by_day = case(*[(Booking.day <= bucket.last_day, index) for index, bucket in enumerate(period.buckets)])
    inner = select(by_day.label("bucket"), Booking.status.label("status")).where(in_days).subquery()
    counted = {(int(bucket), status): int(n) for bucket, status, n in db_session.execute(
        select(inner.c.bucket, inner.c.status, func.count()).group_by(inner.c.bucket, inner.c.status))}
    rows: list[dict[str, Any]] = []
    for index in range(len(period.buckets)):
        statuses = {status.value: counted.get((index, status.value), 0) for status in BookingStatus}
        rows.append({**statuses, "bookings": sum(n for s, n in statuses.items() if s != BookingStatus.cancelled),
                     "no_show_rate": rate(statuses[BookingStatus.no_show],
                                          statuses[BookingStatus.no_show] + statuses[BookingStatus.checked_in])})
    totals: dict[str, Any] = {key: sum(r[key] for r in rows) for key in [*(s.value for s in BookingStatus), "bookings"]}
    totals["no_show_rate"] = rate(totals[BookingStatus.no_show],
                                  totals[BookingStatus.no_show] + totals[BookingStatus.checked_in])
    names = {(office.id, window.id): (office.name, window.name)
             for office in directory.offices for window in office.windows}
    load = db_session.execute(
        select(Booking.office_id, Booking.window_id, func.count())
        .where(in_days, Booking.status != BookingStatus.cancelled)
        .group_by(Booking.office_id, Booking.window_id)).all()
    windows: list[dict[str, Any]] = sorted(({"office_id": office_id, "window_id": window_id,
                       "office": names.get((office_id, window_id), (office_id, window_id))[0],
                       "window": names.get((office_id, window_id), (office_id, window_id))[1], "count": int(n)}
                      for office_id, window_id, n in load), key=lambda row: (-row["count"], row["window_id"]))
    return {"series": _series(period, rows), "total": totals, "windows": windows}

