"""Weekly opening hours of a catalogue service, read from ``faq/catalogue.yml`` and worded for answers.

The catalogue is the one place a service's opening hours are kept: FAQ answers
render ``{hours}`` from them (``describe``) and the booking schedule
(``appointments``) makes its slots from them (``parse_hours``). A service's
``hours`` is a mapping::

    hours:
      workdays: ["09:00-12:00", "13:30-17:00"]  # Monday to Friday and make-up workdays (调休)
      saturday: ["09:00-12:00"]                # an ordinary Saturday (never a holiday)
      sunday: []                               # an ordinary Sunday
      note: 仅办理身份证业务                     # worded after the hours

Holidays are closed whatever the hours say. The words used (周一至周五, 上午 ...)
are the catalogue's ``hours_wording``.
"""

import re
from dataclasses import dataclass
from datetime import time
from typing import Any

Ranges = tuple[tuple[time, time], ...]
DAY_KINDS = ("workdays", "saturday", "sunday")
WORDING_KEYS = ("workdays", "saturday", "sunday", "weekend", "morning", "afternoon", "all_day",
                "times_separator", "days_separator", "note")
RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
NOON = time(12, 0)


@dataclass(frozen=True)
class WeeklyHours:
    """When a service's windows are open on working days, Saturdays and Sundays."""

    workdays: Ranges
    saturday: Ranges = ()
    sunday: Ranges = ()
    note: str = ""

    def ranges(self, kind: str) -> Ranges:
        """The opening ranges of one kind of day (workdays, saturday or sunday)."""
        value: Ranges = getattr(self, kind)
        return value


def _range(text: Any, where: str) -> tuple[time, time]:
    match = RANGE.match(str(text)) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{where}: '{text}' is not a range like \"09:00-12:00\" (quote it)")
    hour_a, minute_a, hour_b, minute_b = (int(group) for group in match.groups())
    if hour_a > 23 or hour_b > 23 or minute_a > 59 or minute_b > 59:
        raise ValueError(f"{where}: '{text}' is not a time of day")
    start, end = time(hour_a, minute_a), time(hour_b, minute_b)
    if start >= end:
        raise ValueError(f"{where}: '{text}' ends before it starts")
    return start, end


def _ranges(raw: Any, where: str) -> Ranges:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError(f"{where}: must be a list of ranges like \"09:00-12:00\"")
    ranges = tuple(sorted(_range(item, where) for item in raw))
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        if start < end:
            raise ValueError(f"{where}: ranges overlap")
    return ranges


def parse_hours(raw: Any) -> WeeklyHours:
    """Reads a service's ``hours`` mapping; raises ValueError naming what is wrong."""
    if not isinstance(raw, dict):
        raise ValueError("field 'hours' must map workdays/saturday/sunday to time ranges")
    unknown = sorted(set(raw) - {*DAY_KINDS, "note"})
    if unknown:
        raise ValueError(f"field 'hours' has unknown keys {unknown} (use {', '.join(DAY_KINDS)}, note)")
    note = raw.get("note") or ""
    if not isinstance(note, str):
        raise ValueError("field 'hours.note' must be a text")
    workdays, saturday, sunday = (_ranges(raw.get(kind), f"hours.{kind}") for kind in DAY_KINDS)
    hours = WeeklyHours(workdays, saturday, sunday, note=note.strip())
    if not any(hours.ranges(kind) for kind in DAY_KINDS):
        raise ValueError("field 'hours' opens on no day")
    return hours


def parse_wording(raw: Any) -> dict[str, str]:
    """Reads the catalogue's ``hours_wording``; raises ValueError when a word is missing."""
    if not isinstance(raw, dict):
        raise ValueError("needs an 'hours_wording' mapping to word the opening hours")
    missing = [key for key in WORDING_KEYS if not isinstance(raw.get(key), str) or not raw[key]]
    if missing:
        raise ValueError(f"'hours_wording' lacks {', '.join(missing)}")
    return {key: str(raw[key]) for key in WORDING_KEYS}


def _clock(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def _group(label: str, ranges: Ranges, wording: dict[str, str]) -> str:
    """周六上午 9:00-12:00; a part of the day is named only for a single range."""
    if len(ranges) == 1:
        start, end = ranges[0]
        part = "morning" if end <= NOON else "afternoon" if start >= NOON else "all_day"
        label += wording[part]
    return f"{label} " + wording["times_separator"].join(f"{_clock(a)}-{_clock(b)}" for a, b in ranges)


def describe(hours: WeeklyHours, wording: dict[str, str]) -> str:
    """The hours as an answer says them: 周一至周五 9:00-12:00、13:30-17:00；周六上午 9:00-12:00（note）."""
    groups = []
    if hours.workdays:
        groups.append(_group(wording["workdays"], hours.workdays, wording))
    if hours.saturday and hours.saturday == hours.sunday:
        groups.append(_group(wording["weekend"], hours.saturday, wording))
    else:
        for kind in ("saturday", "sunday"):
            if hours.ranges(kind):
                groups.append(_group(wording[kind], hours.ranges(kind), wording))
    worded = wording["days_separator"].join(groups)
    return worded + (wording["note"].format(note=hours.note) if hours.note else "")
