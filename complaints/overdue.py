"""The live overdue warning: a ticket that goes past a deadline is announced once to every open console.

Each instance checks every ``overdue_check_seconds``. A warning is taken with a
conditional UPDATE that stamps the deadline's ``*_alerted_at`` only while it is
still empty, so when several instances check at once exactly one of them
announces it (PostgreSQL re-checks the condition after the row lock; SQLite
serialises the writers), the same way handoff re-alerts are taken.
"""

import asyncio
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from complaints.categories import category_label
from complaints.clock import app_now, as_utc
from complaints.enums import OPEN_STATUSES, Deadline
from complaints.models import Complaint
from service.texts import text as t
from staff.events import publish_staff_event

logger = logging.getLogger(__name__)
OVERDUE_EVENT = "complaint_overdue"

# Per deadline: the due column, the column set when the step is taken, the column set when it was announced.
_COLUMNS = {
    Deadline.first_response: (Complaint.first_response_due, Complaint.first_response_at,
                              Complaint.first_response_alerted_at),
    Deadline.plan: (Complaint.plan_due, Complaint.plan_at, Complaint.plan_alerted_at),
}


def _past_and_unannounced(deadline: Deadline, now: datetime) -> Any:
    due, done, alerted = _COLUMNS[deadline]
    return and_(Complaint.status.in_([str(s) for s in OPEN_STATUSES]), done.is_(None), alerted.is_(None), due < now)


def newly_overdue(*, db_session: Session, now: datetime) -> list[tuple[int, Deadline]]:
    """Open tickets past a deadline whose warning has not gone out yet, per deadline."""
    return [(complaint_id, deadline) for deadline in Deadline
            for complaint_id in db_session.scalars(select(Complaint.id).where(_past_and_unannounced(deadline, now))
                                                   .order_by(Complaint.id).limit(200))]


def take_overdue_alert(*, db_session: Session, complaint_id: int, deadline: Deadline,
                       now: datetime) -> Complaint | None:
    """Claims the warning of one ticket's deadline; returns the ticket, or None if another check claimed it."""
    alerted = _COLUMNS[deadline][2]
    claimed = db_session.execute(
        update(Complaint).where(Complaint.id == complaint_id, _past_and_unannounced(deadline, now))
        .values({alerted.key: now}).returning(Complaint.id).execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return db_session.get(Complaint, claimed) if claimed is not None else None


def overdue_event(complaint: Complaint, deadline: Deadline, now: datetime, timezone: str) -> dict[str, Any]:
    """The staff event announcing one overdue deadline, with its words (the page script only shows them)."""
    due = as_utc(complaint.first_response_due if deadline == Deadline.first_response else complaint.plan_due)
    local_due = due.astimezone(ZoneInfo(timezone)).strftime("%m-%d %H:%M")
    return {"type": OVERDUE_EVENT, "number": complaint.number, "deadline": deadline.value,
            "due_at": due.isoformat(), "category_label": category_label(complaint.category),
            "url": f"/console/complaints/{complaint.number}",
            "message": t("complaints", f"overdue_alert.{deadline.value}", number=complaint.number, due=local_due),
            "link_label": t("complaints", "overdue_alert.link"), "dismiss_label": t("complaints", "overdue_alert.dismiss")}


async def announce_overdue(app: FastAPI, now: datetime | None = None) -> list[dict[str, Any]]:
    """Announces every deadline that went past since the last check (once across instances); returns the events."""
    now = now or app_now(app.state)
    timezone = str(app.state.settings.timezone)
    database = app.state.database
    async with database.async_session() as db_session:
        candidates = newly_overdue(db_session=db_session, now=now)
    events = []
    for complaint_id, deadline in candidates:
        # One short transaction per warning: another instance may be checking the same tickets.
        async with database.async_session() as db_session:
            complaint = take_overdue_alert(db_session=db_session, complaint_id=complaint_id, deadline=deadline,
                                           now=now)
            if complaint is not None:
                events.append(overdue_event(complaint, deadline, now, timezone))
    for event in events:
        publish_staff_event(app, event)
    return events


async def run_overdue_checks(app: FastAPI) -> None:
    """Looks for newly overdue tickets forever (the background task started with the app)."""
    while True:
        await asyncio.sleep(app.state.settings.complaints.overdue_check_seconds)
        try:
            await announce_overdue(app)
        except Exception:  # noqa: BLE001 - a failed check must not stop the next ones
            logger.exception("overdue check failed")
