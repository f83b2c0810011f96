"""Working days: chinesecalendar's State Council schedule plus the operators' override file."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import yaml

from appointments.enums import DayStatus


@dataclass(frozen=True)
class DayVerdict:
    """Whether a date is open, and why not (with the holiday's name when known)."""

    status: DayStatus
    holiday_name: str | None = None

    @property
    def is_open(self) -> bool:
        """True on a working day."""
        return self.status is DayStatus.open


@dataclass(frozen=True)
class CalendarOverrides:
    """Holidays and make-up workdays entered by operators, and the years they fully cover."""

    holidays: dict[date, str]
    workdays: dict[date, str]
    complete_years: frozenset[int]


def _dates(raw: dict | None) -> dict[date, str]:
    return {date.fromisoformat(str(day)): str(name or "") for day, name in (raw or {}).items()}


def parse_overrides(raw: dict | None) -> CalendarOverrides:
    """Builds the overrides from the YAML structure."""
    holidays: dict[date, str] = {}
    workdays: dict[date, str] = {}
    complete: set[int] = set()
    for year, entry in ((raw or {}).get("years") or {}).items():
        entry = entry or {}
        holidays.update(_dates(entry.get("holidays")))
        workdays.update(_dates(entry.get("workdays")))
        if entry.get("complete"):
            complete.add(int(year))
    both = holidays.keys() & workdays.keys()
    if both:
        raise ValueError(f"dates listed as holiday and workday: {sorted(both)}")
    return CalendarOverrides(holidays, workdays, frozenset(complete))


@lru_cache
def load_overrides(path: Path) -> CalendarOverrides:
    """Reads the override file once per path; a missing file means no overrides."""
    if not path.exists():
        return parse_overrides(None)
    with path.open(encoding="utf-8") as handle:
        return parse_overrides(yaml.safe_load(handle))


def package_years() -> range:
    """Years the installed chinesecalendar release knows."""
    known = list(chinese_calendar.constants.holidays) + list(chinese_calendar.constants.workdays)
    return range(min(known).year, max(known).year + 1)


def day_verdict(day: date, overrides: CalendarOverrides) -> DayVerdict:
    """Decides whether the service centre is open on a date."""
    if day in overrides.holidays:
        return DayVerdict(DayStatus.holiday, overrides.holidays[day] or None)
    if day in overrides.workdays:
        return DayVerdict(DayStatus.open)
    if day.year in overrides.complete_years:
        return DayVerdict(DayStatus.open if day.weekday() < 5 else DayStatus.weekend)
    if day.year not in package_years():
        return DayVerdict(DayStatus.uncovered)
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return DayVerdict(DayStatus.uncovered)
    if not on_holiday:
        return DayVerdict(DayStatus.open)
    if day.weekday() >= 5 and name is None:
        return DayVerdict(DayStatus.weekend)
    # chinesecalendar names holidays in English ("National Day"); texts.zh.yml translates.
    return DayVerdict(DayStatus.holiday, name)
