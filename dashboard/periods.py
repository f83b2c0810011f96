"""The periods the dashboard reports on: the last 7 local days, or the last 8 ISO weeks, each cut into buckets."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Grain(StrEnum):
    """How the dashboard cuts time: by local day or by ISO week (Monday to Sunday)."""

    day = "day"
    week = "week"


# How many buckets each grain shows, the newest (today, this week) last.
BUCKETS = {Grain.day: 7, Grain.week: 8}


@dataclass(frozen=True)
class Bucket:
    """One day or one week: its local days (inclusive) and the UTC instants [start, end) they span."""

    key: str
    first_day: date
    last_day: date
    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, str]:
        """The bucket as the API shows it."""
        return {"key": self.key, "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat()}


@dataclass(frozen=True)
class Period:
    """The buckets of one report, oldest first, in the service centre's timezone."""

    grain: Grain
    timezone: str
    now: datetime
    buckets: tuple[Bucket, ...]

    @property
    def start(self) -> datetime:
        """The first instant reported on (UTC)."""
        return self.buckets[0].start

    @property
    def end(self) -> datetime:
        """The instant after the last one reported on (UTC)."""
        return self.buckets[-1].end

    @property
    def first_day(self) -> date:
        """The first local day reported on."""
        return self.buckets[0].first_day

    @property
    def last_day(self) -> date:
        """The last local day reported on."""
        return self.buckets[-1].last_day

    def index_of_instant(self, moment: datetime) -> int | None:
        """The bucket holding a UTC instant (naive means UTC, as SQLite returns it), or None."""
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        for index, bucket in enumerate(self.buckets):
            if bucket.start <= moment < bucket.end:
                return index
        return None

    def index_of_day(self, day: date) -> int | None:
        """The bucket holding a local day, or None."""
        for index, bucket in enumerate(self.buckets):
            if bucket.first_day <= day <= bucket.last_day:
                return index
        return None


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def make_period(grain: Grain, now: datetime, timezone: str) -> Period:
    """The report's buckets ending with the local day (or ISO week) that holds ``now``."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    count = BUCKETS[grain]
    buckets = []
    for back in range(count - 1, -1, -1):
        if grain == Grain.day:
            first = last = today - timedelta(days=back)
            key = first.isoformat()
        else:
            first = today - timedelta(days=today.weekday(), weeks=back)
            last = first + timedelta(days=6)
            year, week, _ = first.isocalendar()
            key = f"{year}-W{week:02d}"
        buckets.append(Bucket(key=key, first_day=first, last_day=last, start=_midnight(first, zone),
                              end=_midnight(last + timedelta(days=1), zone)))
    return Period(grain=grain, timezone=timezone, now=now.astimezone(UTC), buckets=tuple(buckets))
