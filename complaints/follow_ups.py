"""Follow-up calls (回访): one comes due after each resolution; what it finds can send the ticket back to work.

- A resolution recorded on a ticket with a mobile schedules a call
  ``follow_up_after_minutes`` later (anonymous tickets have nobody to call).
- ``reached`` and ``satisfied`` finish the call; the ticket stays as it is, and
  staff close it as before.
- ``unreachable`` counts an attempt: the call comes due again
  ``follow_up_retry_minutes`` later, until ``follow_up_attempts`` calls were made.
- ``not_satisfied`` (with a note saying why) reopens the ticket: it goes back to
  "plan given" with its first response and plan kept, so no deadline of the
  service standard is redefined or re-run; it counts a reopen and is escalated
  to a supervisor. The next resolution schedules a new call.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from complaints import risk
from complaints import service as complaint_service
from complaints.categories import category_label
from complaints.clock import as_utc
from complaints.deadlines import moment_phrase
from complaints.enums import (
    ComplaintStatus,
    EscalationReason,
    EventKind,
    FollowUpOutcome,
    FollowUpStatus,
)
from complaints.models import Complaint, ComplaintFollowUp, FollowUpRead
from complaints.settings import ComplaintSettings
from service.errors import ConflictError, ServiceError
from service.pii import mask_mobile
from service.texts import text as t


def schedule(*, db_session: Session, complaint: Complaint, now: datetime,
             settings: ComplaintSettings) -> ComplaintFollowUp | None:
    """Schedules the follow-up call of a resolved ticket, if the citizen left a mobile."""
    if not complaint.mobile or get_pending(db_session=db_session, complaint=complaint) is not None:
        return None
    follow_up = ComplaintFollowUp(complaint_id=complaint.id, status=FollowUpStatus.pending, attempts=0,
                                  due_at=as_utc(now) + timedelta(minutes=settings.follow_up_after_minutes),
                                  created_at=now)
    db_session.add(follow_up)
    db_session.flush()
    return follow_up


def get_pending(*, db_session: Session, complaint: Complaint, lock: bool = False) -> ComplaintFollowUp | None:
    """The ticket's follow-up call still to be made, if any."""
    query = select(ComplaintFollowUp).where(ComplaintFollowUp.complaint_id == complaint.id,
                                            ComplaintFollowUp.status == FollowUpStatus.pending)
    if lock:
        query = query.with_for_update()
    return db_session.scalar(query)


def get_for(*, db_session: Session, complaint: Complaint) -> list[ComplaintFollowUp]:
    """Every follow-up call of a ticket, oldest first."""
    return list(db_session.scalars(select(ComplaintFollowUp).where(ComplaintFollowUp.complaint_id == complaint.id)
                                   .order_by(ComplaintFollowUp.id)))


def get_all_pending(*, db_session: Session, limit: int = 500) -> list[tuple[ComplaintFollowUp, Complaint]]:
    """Follow-up calls still to be made with their tickets, soonest due first."""
    rows = db_session.execute(
        select(ComplaintFollowUp, Complaint).join(Complaint, Complaint.id == ComplaintFollowUp.complaint_id)
        .where(ComplaintFollowUp.status == FollowUpStatus.pending)
        .order_by(ComplaintFollowUp.due_at, ComplaintFollowUp.id).limit(limit))
    return [(row[0], row[1]) for row in rows]


def to_read(follow_up: ComplaintFollowUp, complaint: Complaint, now: datetime) -> FollowUpRead:
    """The staff view of a follow-up call."""
    return FollowUpRead(
        id=follow_up.id, number=complaint.number, category_label=category_label(complaint.category),
        status=FollowUpStatus(follow_up.status), due_at=as_utc(follow_up.due_at),
        is_due=follow_up.status == FollowUpStatus.pending and as_utc(follow_up.due_at) <= as_utc(now),
        attempts=follow_up.attempts, outcome=FollowUpOutcome(follow_up.outcome) if follow_up.outcome else None,
        note=follow_up.note, done_by=follow_up.done_by,
        done_at=as_utc(follow_up.done_at) if follow_up.done_at else None,
        resolved_at=as_utc(complaint.resolved_at) if complaint.resolved_at else None,
        mobile_masked=mask_mobile(complaint.mobile) if complaint.mobile else None,
    )


def require_pending(*, db_session: Session, complaint: Complaint, lock: bool = False) -> ComplaintFollowUp:
    """The ticket's pending follow-up call, or 409 when there is none."""
    follow_up = get_pending(db_session=db_session, complaint=complaint, lock=lock)
    if follow_up is None:
        raise ConflictError("this complaint has no follow-up call to make", code="no_follow_up_pending",
                            details={"status": complaint.status})
    return follow_up


def _reopen(*, db_session: Session, complaint: Complaint, actor: str, note: str, now: datetime) -> None:
    """Sends a ticket whose citizen is not satisfied back to work, and to a supervisor's attention."""
    complaint.status = ComplaintStatus.plan_given
    complaint.resolved_at = None
    complaint.closed_at = None
    complaint.reopen_count = (complaint.reopen_count or 0) + 1
    complaint_service.add_event(db_session=db_session, complaint=complaint, kind=EventKind.reopened, actor=actor,
                                text=note, now=now)
    risk.escalate(db_session=db_session, complaint=complaint, reason=EscalationReason.follow_up_not_satisfied,
                  now=now)


def record_outcome(*, db_session: Session, complaint: Complaint, actor: str, outcome: FollowUpOutcome,
                   note: str | None, now: datetime, settings: ComplaintSettings, timezone: str) -> ComplaintFollowUp:
    """Records what a follow-up call found (see the module's rules) and writes it into the ticket's history."""
    if note is not None:
        note = complaint_service.check_text(note, field="note", min_chars=1,
                                            max_chars=settings.staff_text_max_chars) if note.strip() else None
    if outcome == FollowUpOutcome.not_satisfied and not note:
        raise ServiceError("say why the citizen is not satisfied", code="note_required", status_code=422,
                           details={"field": "note"})
    follow_up = require_pending(db_session=db_session, complaint=complaint, lock=True)
    follow_up.attempts += 1
    summary = t("complaints", f"follow_up.{outcome}")
    if outcome == FollowUpOutcome.unreachable and follow_up.attempts < settings.follow_up_attempts:
        follow_up.due_at = as_utc(now) + timedelta(minutes=settings.follow_up_retry_minutes)
        summary = t("complaints", "follow_up.retry", attempt=follow_up.attempts,
                    at=moment_phrase(follow_up.due_at, now, timezone))
    else:
        follow_up.status = FollowUpStatus.done
        follow_up.outcome = outcome
        follow_up.note = note
        follow_up.done_by = actor
        follow_up.done_at = now
    complaint_service.add_event(db_session=db_session, complaint=complaint, kind=EventKind.follow_up, actor=actor,
                                text=summary + (f"：{note}" if note else ""), now=now)
    if outcome == FollowUpOutcome.not_satisfied:
        _reopen(db_session=db_session, complaint=complaint, actor=actor, note=note or "", now=now)
    db_session.flush()
    return follow_up


def reveal_contact(*, db_session: Session, complaint: Complaint, actor: str, now: datetime) -> str:
    """The citizen's mobile in clear for the follow-up call; only while one is pending, and written in the history."""
    require_pending(db_session=db_session, complaint=complaint)
    if not complaint.mobile:
        raise ConflictError("this complaint has no contact number", code="no_contact")
    complaint_service.add_event(db_session=db_session, complaint=complaint, kind=EventKind.contact_viewed,
                                actor=actor, text=None, now=now)
    return complaint.mobile
