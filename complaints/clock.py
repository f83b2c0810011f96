"""The complaints domain's clock: one injectable source of "now" so deadlines can be tested at a frozen time."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Returns the current time in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Reads a stored time as UTC (SQLite returns naive datetimes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def app_now(state: object) -> datetime:
    """Reads the app's clock (tests replace ``app.state.complaint_clock``), in UTC."""
    clock: Clock = getattr(state, "complaint_clock", system_clock)
    return as_utc(clock())


def get_clock(request: Request) -> Clock:
    """Returns a clock reading the app's time source in UTC."""
    return lambda: app_now(request.app.state)


ClockDep = Annotated[Clock, Depends(get_clock)]
