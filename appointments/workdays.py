"""Working days: operator overrides, chinesecalendar's State Council schedule, and the statutory holidays.

A date is decided by the first source that knows it:

1. the operators' override file (``calendar_overrides.yml``): listed holidays
   and make-up workdays (调休) always win;
2. the ``chinesecalendar`` package, for the years whose State Council schedule
   it carries (up to its release year);
3. for any other year, the statutory holidays of 《全国年节及纪念日放假办法》
   (as amended 2024, in force 2025-01-01), computed with the lunar calendar and
   the solar terms of ``borax``: 元旦 1 day, 春节 4 days (除夕 to 初三), 清明 1,
   劳动节 2 (5/1-5/2), 端午 1, 中秋 1, 国庆 3 (10/1-10/3). Other days are open
   Monday to Friday.

A year is *published* when chinesecalendar covers it or the override file marks
it ``complete: true``. A verdict for a date of an unpublished year is
``provisional``: the State Council's notice may still add bridges and make-up
workdays, and citizens are told so.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import chinese_calendar
import yaml
from borax.calendars.lunardate import LunarDate, TermUtils
from chinese_calendar import Holiday

from appointments.enums import DayStatus

# Years borax's lunar tables compute (its range is 1900-2100; the edges lack a whole lunar year).
LUNAR_YEARS = range(1901, 2100)


@dataclass(frozen=True)
class DayVerdict:
    """Whether a date is open, why not (with the holiday's name when known), and whether that may change."""

    status: DayStatus
    holiday_name: str | None = None
    # The year's holiday schedule is not published yet: the verdict comes from the statutory holidays.
    provisional: bool = False

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


@lru_cache(maxsize=1)
def package_years() -> range:
    """Years the installed chinesecalendar release knows."""
    known = list(chinese_calendar.constants.holidays) + list(chinese_calendar.constants.workdays)
    return range(min(known).year, max(known).year + 1)


def is_published(year: int, overrides: CalendarOverrides) -> bool:
    """True when the State Council's schedule of a year is known (from the package or entered in full)."""
    return year in overrides.complete_years or year in package_years()


@lru_cache
def statutory_blocks(year: int) -> tuple[tuple[str, tuple[date, ...]], ...]:
    """The statutory public holidays of a year, one block of days per holiday, in calendar order.

    Named as chinesecalendar names them. Only the days the law fixes: no
    bridges, no make-up workdays and no compensation of a holiday that falls
    on a weekend, which the State Council's yearly notice decides. Raises
    ValueError outside LUNAR_YEARS.
    """
    if year not in LUNAR_YEARS:
        raise ValueError(f"the lunar calendar is not computed for {year}")
    new_year = LunarDate(year, 1, 1).to_solar_date()
    return (
        (Holiday.new_years_day.value, (date(year, 1, 1),)),
        # 除夕 (the eve, the last day of the lunar year), 初一, 初二, 初三.
        (Holiday.spring_festival.value, tuple(new_year + timedelta(days=offset) for offset in range(-1, 3))),
        (Holiday.tomb_sweeping_day.value, (TermUtils.nth_term_day(year, term_name="清明"),)),
        (Holiday.labour_day.value, (date(year, 5, 1), date(year, 5, 2))),
        (Holiday.dragon_boat_festival.value, (LunarDate(year, 5, 5).to_solar_date(),)),
        (Holiday.mid_autumn_festival.value, (LunarDate(year, 8, 15).to_solar_date(),)),
        (Holiday.national_day.value, (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3))),
    )


@lru_cache
def statutory_holidays(year: int) -> dict[date, str]:
    """Every statutory holiday of a year with its name; raises ValueError outside LUNAR_YEARS.

    When 中秋 falls in the National Day holiday (2028-10-03), the day is named after National Day.
    """
    return {day: name for name, days in statutory_blocks(year) for day in days}


def statutory_verdict(day: date, provisional: bool) -> DayVerdict:
    """The verdict from the statutory holidays alone: open on weekdays that are not one."""
    try:
        holidays = statutory_holidays(day.year)
    except ValueError:
        return DayVerdict(DayStatus.uncovered)
    if day in holidays:
        return DayVerdict(DayStatus.holiday, holidays[day], provisional)
    return DayVerdict(DayStatus.open if day.weekday() < 5 else DayStatus.weekend, None, provisional)


def day_verdict(day: date, overrides: CalendarOverrides) -> DayVerdict:
    """Decides whether the service centre is open on a date."""
    provisional = not is_published(day.year, overrides)
    if day in overrides.holidays:
        return DayVerdict(DayStatus.holiday, overrides.holidays[day] or None, provisional)
    if day in overrides.workdays:
        return DayVerdict(DayStatus.open, None, provisional)
    if day.year in package_years():
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return statutory_verdict(day, provisional=True)
        if not on_holiday:
            return DayVerdict(DayStatus.open)
        if day.weekday() >= 5 and name is None:
            return DayVerdict(DayStatus.weekend)
        # chinesecalendar names holidays in English ("National Day"); texts.zh.yml translates.
        return DayVerdict(DayStatus.holiday, name)
    return statutory_verdict(day, provisional)
