"""Multi-step orchestration: filing with risk checks, verified citizen access, staff steps that reach the chat.

Functions that talk to the conversation router open their own short
transactions and push to the chat only after the ticket is committed: the
router writes in a transaction of its own, which SQLite would otherwise block.
"""

import logging
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from complaints import follow_ups, risk
from complaints import service as complaint_service
from complaints.categories import category_label
from complaints.clock import as_utc
from complaints.deadlines import deadlines_sentence
from complaints.enums import CITIZEN_VISIBLE_EVENTS, ComplaintCategory, ComplaintStatus, EventKind, Source
from complaints.models import (
    CitizenStatusRead,
    CitizenVerification,
    Complaint,
    ComplaintCreate,
    ComplaintRead,
    EventRead,
    FiledRead,
)
from complaints.settings import ComplaintSettings
from conversations.enums import Sender
from conversations.flows import ConversationRouter
from service.attempts import LookupGuard, LookupLimits, session_attempts, too_many_attempts
from service.database import Database
from service.errors import NotFoundError, ServiceError
from service.pii import mask_mobile
from service.texts import text as t

logger = logging.getLogger(__name__)

StaffStep = Literal["first_response", "plan", "resolution", "close"]
_STEP_FUNCTIONS = {
    "first_response": complaint_service.record_first_response,
    "plan": complaint_service.record_plan,
    "resolution": complaint_service.record_resolution,
    "close": complaint_service.close,
}

_STEP_EVENTS = {"first_response": EventKind.first_response, "plan": EventKind.plan,
                "resolution": EventKind.resolution, "close": EventKind.closed}


def to_read(complaint: Complaint, now: datetime, settings: ComplaintSettings, *, with_events: bool = True) -> ComplaintRead:
    """Builds the staff view of a ticket."""
    return ComplaintRead(
        number=complaint.number,
        category=ComplaintCategory(complaint.category),
        category_label=category_label(complaint.category),
        status=ComplaintStatus(complaint.status),
        status_label=t("complaints", f"status.{complaint.status}"),
        description=complaint.description,
        location=complaint.location,
        occurred=complaint.occurred,
        window=complaint.window,
        mobile_masked=mask_mobile(complaint.mobile) if complaint.mobile else None,
        anonymous=complaint.anonymous,
        source=Source(complaint.source),
        conversation_id=complaint.conversation_id,
        assignee=complaint.assignee,
        is_repeat=complaint.is_repeat,
        escalated=complaint.escalated,
        urgency=risk.urgency(complaint, now, settings),
        current_due=risk.current_due(complaint),
        submitted_at=as_utc(complaint.submitted_at),
        updated_at=as_utc(complaint.updated_at),
        first_response_due=as_utc(complaint.first_response_due),
        plan_due=as_utc(complaint.plan_due),
        first_response_at=as_utc(complaint.first_response_at) if complaint.first_response_at else None,
        plan_at=as_utc(complaint.plan_at) if complaint.plan_at else None,
        resolved_at=as_utc(complaint.resolved_at) if complaint.resolved_at else None,
        closed_at=as_utc(complaint.closed_at) if complaint.closed_at else None,
        reopen_count=complaint.reopen_count or 0,
        clocks=risk.deadline_clocks(complaint, now, settings),
        events=[EventRead(kind=e.kind, actor=e.actor, text=e.text, is_public=e.is_public,
                          created_at=as_utc(e.created_at))
                for e in complaint.events] if with_events else [],
    )


def citizen_status(complaint: Complaint) -> CitizenStatusRead:
    """Builds what the citizen sees: status and every response, no staff names or internal notes."""
    updates: list[dict[str, Any]] = []
    for event in complaint.events:
        if event.kind in CITIZEN_VISIBLE_EVENTS:
            updates.append({"step": t("complaints", f"event.{event.kind}"), "kind": event.kind, "text": event.text,
                            "at": as_utc(event.created_at).isoformat()})
    status_label = t("complaints", f"status.{complaint.status}")
    latest = next((u for u in reversed(updates) if u["text"] and u["kind"] != EventKind.citizen_info), None)
    summary = f"{complaint.number}：{status_label}" + (f"。{latest['step']}：{latest['text']}" if latest else "")
    return CitizenStatusRead(
        number=complaint.number, category_label=category_label(complaint.category),
        status=ComplaintStatus(complaint.status), status_label=status_label,
        submitted_at=as_utc(complaint.submitted_at), first_response_due=as_utc(complaint.first_response_due),
        plan_due=as_utc(complaint.plan_due), updates=updates, summary=summary,
    )


def file_complaint(*, db_session: Session, complaint_in: ComplaintCreate, now: datetime, settings: ComplaintSettings,
                   timezone: str) -> tuple[Complaint, FiledRead]:
    """Files a ticket, checks it against recent ones, and says the deadlines in plain Chinese."""
    complaint = complaint_service.create(db_session=db_session, complaint_in=complaint_in, now=now,
                                         settings=settings, timezone=timezone)
    risk.detect_repeats(db_session=db_session, complaint=complaint, now=now, settings=settings)
    filed = FiledRead(
        number=complaint.number, category=ComplaintCategory(complaint.category),
        category_label=category_label(complaint.category),
        first_response_due=as_utc(complaint.first_response_due), plan_due=as_utc(complaint.plan_due),
        deadlines_text=deadlines_sentence(as_utc(complaint.first_response_due), as_utc(complaint.plan_due), now,
                                          settings, timezone),
        lookup_code=complaint.lookup_code, is_repeat=complaint.is_repeat,
    )
    return complaint, filed


def _not_found_or_mismatch() -> ServiceError:
    # One answer for an unknown number and for wrong digits, so guesses learn nothing.
    return ServiceError("no complaint matches this number and these digits", code="complaint_not_found",
                        status_code=404)


def lookup_limits(settings: ComplaintSettings, base: LookupLimits | None = None) -> LookupLimits:
    """The guessing limits of ticket look-ups: the complaints settings give the per-requester count and window."""
    return (base or LookupLimits()).model_copy(update={
        "per_code_and_requester": settings.lookup_max_failures,
        "window_seconds": settings.lookup_window_minutes * 60})


def with_verified_ticket(*, database: Database, request: CitizenVerification, now: datetime,
                         settings: ComplaintSettings, action: Any, limits: LookupLimits | None = None) -> Any:
    """Runs ``action(db_session, complaint)`` if the citizen proves ownership; failures are counted and rate-limited.

    Failures count per (ticket, requester) and per requester across tickets
    (service.attempts.LookupGuard), so strangers' guesses never lock the owner
    out; many requesters failing on one ticket alert staff.
    """
    number = request.ticket_number.strip().upper()
    outcome: Any = None
    refused: ServiceError | None = None
    with database.session() as db_session:
        guard = LookupGuard(session_attempts(db_session, lambda: now), scope="complaint",
                            limits=lookup_limits(settings, limits))
        wait = guard.wait(number, request.requester)
        if wait:
            refused = too_many_attempts(wait, "too many failed lookups, try again later")
        else:
            complaint = complaint_service.get_by_number(db_session=db_session, number=number)
            # The conversation that filed the ticket owns it ("我刚才那个TS…"); anyone else proves it with four digits.
            if complaint is None or not (complaint_service.filed_by(complaint, request.requester)
                                         or complaint_service.verification_matches(complaint, request.verification)):
                guard.failed(number, request.requester)
                refused = _not_found_or_mismatch()
            else:
                guard.succeeded(number, request.requester)
    if refused is not None:
        raise refused
    with database.session() as db_session:
        complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
        outcome = action(db_session, complaint)
    return outcome


async def notify_citizen(router: ConversationRouter, conversation_id: str | None, message: str) -> bool:
    """Pushes a ticket update into the citizen's chat, if the ticket came from one."""
    if not conversation_id:
        return False
    try:
        await router.record(conversation_id, Sender.system, [{"text": message}])
    except NotFoundError:
        logger.info("conversation %s of a complaint no longer exists", conversation_id)
        return False
    return True


async def staff_step(*, database: Database, router: ConversationRouter, number: str, step: StaffStep, actor: str,
                     text: str | None, now: datetime, settings: ComplaintSettings,
                     is_public: bool = False) -> ComplaintRead:
    """Records a staff step, then tells the citizen in their chat; a public note also shows (masked) in Open311."""
    if text is not None or step != "close":
        text = complaint_service.check_text(text or "", field="text", min_chars=1,
                                            max_chars=settings.staff_text_max_chars)
    async with database.async_session() as db_session:
        complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
        _STEP_FUNCTIONS[step](db_session=db_session, complaint=complaint, actor=actor, text=text, now=now,
                              is_public=is_public)
        if step == "resolution":
            follow_ups.schedule(db_session=db_session, complaint=complaint, now=now, settings=settings)
        read = to_read(complaint, now, settings)
        conversation_id = complaint.conversation_id
    step_label = t("complaints", f"event.{_STEP_EVENTS[step]}")
    message = (t("complaints", "citizen_update", number=number.upper(), step=step_label, text=text) if text
               else t("complaints", "citizen_update_no_text", number=number.upper(), step=step_label))
    await notify_citizen(router, conversation_id, message)
    return read
