"""Deadlines of the service standard and how they are said in plain Chinese."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from complaints.settings import ComplaintSettings, DeadlineRule
from service.texts import text as t


def due_at(start: datetime, rule: DeadlineRule) -> datetime:
    """Returns when a step is due under a rule (calendar minutes from ``start``)."""
    return start + timedelta(minutes=rule.minutes)


def compute_deadlines(submitted_at: datetime, settings: ComplaintSettings) -> tuple[datetime, datetime]:
    """Returns the first-response and plan deadlines of a ticket submitted at ``submitted_at``."""
    return due_at(submitted_at, settings.first_response), due_at(submitted_at, settings.plan)


def span_phrase(minutes: int) -> str:
    """Says a duration: 30分钟, 48小时."""
    if minutes % 60 == 0:
        return t("complaints", "hours", n=minutes // 60)
    return t("complaints", "minutes", n=minutes)


def moment_phrase(moment: datetime, now: datetime, timezone: str) -> str:
    """Says a local time relative to now: 今天15:42, 明天09:00, 11月23日15:12."""
    zone = ZoneInfo(timezone)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return t("complaints", "today") + clock
    if local.date() == today + timedelta(days=1):
        return t("complaints", "tomorrow") + clock
    return t("complaints", "date_time", month=local.month, day=local.day, time=clock)


def deadlines_sentence(first_due: datetime, plan_due: datetime, now: datetime, settings: ComplaintSettings,
                       timezone: str) -> str:
    """Says both deadlines in one sentence for the citizen."""
    return t(
        "complaints", "deadlines",
        first_span=span_phrase(settings.first_response.minutes),
        first_at=moment_phrase(first_due, now, timezone),
        plan_span=span_phrase(settings.plan.minutes),
        plan_at=moment_phrase(plan_due, now, timezone),
    )
