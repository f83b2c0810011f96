"""Live figures: every few seconds a cheap fingerprint of the source tables; when it moves, every console hears.

The fingerprint is a handful of MAX(id) and COUNT(column) values: a new
message, FAQ question, ticket, rating, complaint or booking moves it, and so do
a claim, a close, a complaint step and an attendance mark. The open dashboards
receive ``{"topic": "staff", "type": "figures_changed"}`` and fetch the figures
again; the check itself runs at most once per interval, which is the debounce.
"""

import asyncio
import logging
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from appointments.models import Booking
from complaints.models import Complaint
from conversations.models import Message
from faq.models import FaqQuery
from handoff.models import HandoffTicket, TicketRating
from service.database import READ_ONLY, Database
from staff.events import publish_staff_event

logger = logging.getLogger(__name__)

FINGERPRINT_SECONDS = 5.0
FIGURES_CHANGED = "figures_changed"


def read_fingerprint(database: Database) -> tuple[Any, ...]:
    """The source tables' high-water marks, read in one statement without taking SQLite's write lock."""
    marks: list[Any] = [
        func.max(Message.id), func.max(FaqQuery.id), func.max(HandoffTicket.id),
        func.count(HandoffTicket.claimed_at), func.count(HandoffTicket.closed_at), func.max(TicketRating.id),
        func.max(Complaint.id), func.max(Complaint.updated_at), func.max(Booking.id), func.max(Booking.updated_at),
    ]
    statement = select(*(select(mark).scalar_subquery() for mark in marks))
    with database.session() as db_session:
        db_session.connection(execution_options=READ_ONLY)
        return tuple(db_session.execute(statement).one())


class FiguresWatch:
    """Remembers the last fingerprint and tells when the figures have moved since."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.last: tuple[Any, ...] | None = None

    def moved(self) -> bool:
        """Reads the fingerprint; True when it differs from the one read before (never on the first read)."""
        current = read_fingerprint(self.database)
        changed = self.last is not None and current != self.last
        self.last = current
        return changed


async def publish_if_moved(app: FastAPI, watch: FiguresWatch) -> bool:
    """Checks the fingerprint off the event loop and, when it moved, tells every open console."""
    moved = await asyncio.to_thread(watch.moved)
    if moved:
        publish_staff_event(app, {"type": FIGURES_CHANGED})
    return moved


async def run_watch(app: FastAPI, watch: FiguresWatch, interval: float | None = None) -> None:
    """Checks forever (the background task started with the app), every FINGERPRINT_SECONDS by default."""
    while True:
        try:
            await publish_if_moved(app, watch)
        except Exception:  # noqa: BLE001 - a failed check must not stop the next ones
            logger.exception("dashboard fingerprint check failed")
        await asyncio.sleep(interval or FINGERPRINT_SECONDS)
