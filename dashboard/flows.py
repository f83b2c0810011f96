"""Putting the dashboard together: the sources a report reads, its sections, and the headline figures."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from appointments.offices import OfficeDirectory
from complaints.settings import ComplaintSettings
from dashboard.figures import (
    CONTAINMENT_TARGET,
    booking_figures,
    complaint_figures,
    conversation_figures,
    faq_figures,
    handoff_figures,
    satisfaction_figures,
)
from dashboard.periods import Period


def headline(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures the service standard asks for first: efficiency, accuracy, satisfaction, containment."""
    conversations, faq = figures["conversations"]["total"], figures["faq"]["total"]
    complaints, bookings = figures["complaints"]["total"], figures["bookings"]["total"]
    return {"containment": conversations["containment"], "containment_target": CONTAINMENT_TARGET,
            "conversations": conversations["conversations"],
            "first_response_seconds": conversations["first_response_seconds"],
            "error_rate": faq["error_rate"], "faq_questions": faq["total"],
            "csat_average": figures["satisfaction"]["total"]["average"],
            "csat_count": figures["satisfaction"]["total"]["count"],
            "handoffs": figures["handoffs"]["total"]["total"],
            "wait_p50_seconds": figures["handoffs"]["total"]["wait_p50_seconds"],
            "first_response_compliance": complaints["first_response"]["share"],
            "plan_compliance": complaints["plan"]["share"],
            "no_show_rate": bookings["no_show_rate"]}




@dataclass(frozen=True)
class Sources:
    """What the figures are read from: the session, the period, and the other domains' names and rules."""

    db_session: Session
    period: Period
    now: datetime
    titles: dict[str, str]
    reason_labels: dict[str, str]
    complaint_settings: ComplaintSettings
    directory: OfficeDirectory


SECTIONS: dict[str, Callable[[Sources], dict[str, Any]]] = {
    "conversations": lambda s: conversation_figures(db_session=s.db_session, period=s.period),
    "faq": lambda s: faq_figures(db_session=s.db_session, period=s.period, titles=s.titles),
    "handoffs": lambda s: handoff_figures(db_session=s.db_session, period=s.period, reason_labels=s.reason_labels),
    "satisfaction": lambda s: satisfaction_figures(db_session=s.db_session, period=s.period),
    "complaints": lambda s: complaint_figures(db_session=s.db_session, period=s.period,
                                              settings=s.complaint_settings, now=s.now),
    "bookings": lambda s: booking_figures(db_session=s.db_session, period=s.period, directory=s.directory),
}


def compute(sources: Sources, sections: list[str] | None = None) -> dict[str, Any]:
    """The named sections of the dashboard (default: all, with the headline figures) for one period."""
    period = sources.period
    figures: dict[str, Any] = {
        "period": {"grain": period.grain.value, "timezone": period.timezone, "now": period.now.isoformat(),
                   "buckets": [bucket.as_dict() for bucket in period.buckets]}}
    for name in sections or list(SECTIONS):
        figures[name] = SECTIONS[name](sources)
    if sections is None:
        figures["headline"] = headline(figures)
    return figures
