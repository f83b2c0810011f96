"""Working days: overrides first, then chinesecalendar's published schedule, then the statutory holidays."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from appointments.enums import DayStatus
from appointments.settings import AppointmentSettings
from appointments.workdays import (
    day_verdict,
    is_published,
    load_overrides,
    package_years,
    parse_overrides,
    statutory_holidays,
)

SHIPPED = load_overrides(AppointmentSettings().calendar_overrides_path)
NONE = parse_overrides(None)
# A year no installed chinesecalendar release covers (its data end with its release year).
UNPUBLISHED = 2030

NEW_YEAR, SPRING, QINGMING, LABOUR = "New Year's Day", "Spring Festival", "Tomb-sweeping Day", "Labour Day"
DRAGON_BOAT, MID_AUTUMN, NATIONAL = "Dragon Boat Festival", "Mid-autumn Festival", "National Day"

# year -> 除夕 (the Spring Festival holiday's first day), 清明, 端午, 中秋 (from the published lunar calendar).
LUNAR = {
    2027: (date(2027, 2, 5), date(2027, 4, 5), date(2027, 6, 9), date(2027, 9, 15)),
    2028: (date(2028, 1, 25), date(2028, 4, 4), date(2028, 5, 28), date(2028, 10, 3)),
    2029: (date(2029, 2, 12), date(2029, 4, 4), date(2029, 6, 16), date(2029, 9, 22)),
    2030: (date(2030, 2, 2), date(2030, 4, 5), date(2030, 6, 5), date(2030, 9, 12)),
}


def expected_holidays(year: int) -> dict[date, str]:
    """The statutory holidays of 《全国年节及纪念日放假办法》 as amended in force from 2025."""
    eve, qingming, dragon_boat, mid_autumn = LUNAR[year]
    days = {date(year, 1, 1): NEW_YEAR, qingming: QINGMING, dragon_boat: DRAGON_BOAT, mid_autumn: MID_AUTUMN,
            date(year, 5, 1): LABOUR, date(year, 5, 2): LABOUR}
    days.update({eve + timedelta(days=offset): SPRING for offset in range(4)})
    days.update({date(year, 10, day): NATIONAL for day in (1, 2, 3)})
    return days


@pytest.mark.parametrize("year", sorted(LUNAR))
def test_statutory_holidays_of_any_year(year: int) -> None:
    assert statutory_holidays(year) == expected_holidays(year)
    # 13 days a year, one fewer when 中秋 falls in the National Day holiday (2028-10-03).
    assert len(statutory_holidays(year)) == (12 if year == 2028 else 13)


# (day, status, holiday name) for a year no source publishes: the statutory rules alone.
STATUTORY_TABLE = [
    (date(2030, 1, 1), DayStatus.holiday, NEW_YEAR),
    (date(2030, 2, 2), DayStatus.holiday, SPRING),   # 除夕, a Saturday
    (date(2030, 2, 5), DayStatus.holiday, SPRING),   # 初三
    (date(2030, 2, 6), DayStatus.open, None),        # 初四, a Wednesday: no bridge is guessed
    (date(2030, 4, 5), DayStatus.holiday, QINGMING),
    (date(2030, 5, 1), DayStatus.holiday, LABOUR),
    (date(2030, 5, 2), DayStatus.holiday, LABOUR),
    (date(2030, 5, 3), DayStatus.open, None),
    (date(2030, 6, 5), DayStatus.holiday, DRAGON_BOAT),
    (date(2030, 9, 12), DayStatus.holiday, MID_AUTUMN),
    (date(2030, 10, 3), DayStatus.holiday, NATIONAL),
    (date(2030, 10, 4), DayStatus.open, None),
    (date(2030, 3, 6), DayStatus.open, None),        # an ordinary Wednesday
    (date(2030, 3, 9), DayStatus.weekend, None),     # an ordinary Saturday
]


@pytest.mark.parametrize(("day", "status", "name"), STATUTORY_TABLE, ids=[str(row[0]) for row in STATUTORY_TABLE])
def test_a_year_chinesecalendar_lacks_follows_the_statutory_holidays(day: date, status: DayStatus,
                                                                     name: str | None) -> None:
    assert UNPUBLISHED not in package_years()
    verdict = day_verdict(day, SHIPPED)
    assert (verdict.status, verdict.holiday_name) == (status, name)
    assert verdict.provisional, "an unpublished year's verdict may change"


def test_published_years_are_not_provisional() -> None:
    assert 2026 in package_years() and is_published(2026, SHIPPED)
    assert not day_verdict(date(2026, 11, 23), SHIPPED).provisional
    assert not is_published(UNPUBLISHED, SHIPPED)


@pytest.mark.parametrize("year", [2025, 2026])
def test_statutory_days_agree_with_the_published_schedule(year: int) -> None:
    # Since the 2025 amendment every statutory day is a holiday in the State Council's schedule.
    assert year in package_years()
    for day in statutory_holidays(year):
        assert day_verdict(day, NONE).status is DayStatus.holiday, day


def test_national_day_is_a_holiday() -> None:
    verdict = day_verdict(date(2026, 10, 1), SHIPPED)
    assert verdict.status is DayStatus.holiday
    assert verdict.holiday_name == "National Day"


def test_published_schedule_wins_over_the_statutory_days() -> None:
    # 2026: the National Day week runs past the three statutory days; 10-10 is worked in exchange.
    assert day_verdict(date(2026, 10, 5), SHIPPED).status is DayStatus.holiday
    assert date(2026, 10, 10).weekday() == 5
    assert day_verdict(date(2026, 10, 10), SHIPPED).is_open


def test_ordinary_weekend_and_weekday() -> None:
    assert day_verdict(date(2026, 11, 21), SHIPPED).status is DayStatus.weekend
    assert day_verdict(date(2026, 11, 23), SHIPPED).is_open


OVERRIDES_2028 = parse_overrides({"years": {2028: {
    "holidays": {"2028-01-31": "春节", "2028-10-04": "国庆节"},
    "workdays": {"2028-01-29": "春节调休上班", "2028-10-07": "国庆调休上班"},
}}})

# (day, status, name, provisional) with the operators' entries of a year not published in full.
OVERRIDE_TABLE = [
    (date(2028, 1, 29), DayStatus.open, None, True),          # a make-up Saturday (调休上班)
    (date(2028, 10, 7), DayStatus.open, None, True),          # another one
    (date(2028, 1, 31), DayStatus.holiday, "春节", True),      # a bridge Monday
    (date(2028, 10, 4), DayStatus.holiday, "国庆节", True),
    (date(2028, 1, 26), DayStatus.holiday, SPRING, True),      # statutory, not listed
    (date(2028, 1, 30), DayStatus.weekend, None, True),
    (date(2028, 2, 1), DayStatus.open, None, True),
]


@pytest.mark.parametrize(("day", "status", "name", "provisional"), OVERRIDE_TABLE,
                         ids=[str(row[0]) for row in OVERRIDE_TABLE])
def test_overrides_add_make_up_days_and_bridges(day: date, status: DayStatus, name: str | None,
                                               provisional: bool) -> None:
    verdict = day_verdict(day, OVERRIDES_2028)
    assert (verdict.status, verdict.holiday_name, verdict.provisional) == (status, name, provisional)


def test_complete_override_year_is_published_and_keeps_the_statutory_days() -> None:
    overrides = parse_overrides({"years": {2029: {"complete": True, "holidays": {"2029-02-16": "春节"},
                                                  "workdays": {"2029-02-24": "春节调休"}}}})
    assert is_published(2029, overrides)
    assert day_verdict(date(2029, 3, 7), overrides).is_open
    assert day_verdict(date(2029, 2, 16), overrides).status is DayStatus.holiday
    assert day_verdict(date(2029, 2, 13), overrides).status is DayStatus.holiday  # 初一, not listed
    assert day_verdict(date(2029, 2, 24), overrides).is_open
    assert day_verdict(date(2029, 2, 25), overrides).status is DayStatus.weekend
    assert not day_verdict(date(2029, 3, 7), overrides).provisional


def test_override_corrects_the_package() -> None:
    overrides = parse_overrides({"years": {2026: {"holidays": {"2026-11-23": "临时闭馆"},
                                                  "workdays": {"2026-10-05": "临时开放"}}}})
    verdict = day_verdict(date(2026, 11, 23), overrides)
    assert verdict.status is DayStatus.holiday and verdict.holiday_name == "临时闭馆"
    assert day_verdict(date(2026, 10, 5), overrides).is_open


def test_a_date_cannot_be_both_holiday_and_workday() -> None:
    with pytest.raises(ValueError):
        parse_overrides({"years": {2027: {"holidays": {"2027-01-04": "x"}, "workdays": {"2027-01-04": "y"}}}})


def test_missing_override_file_means_package_only(tmp_path: Path) -> None:
    overrides = load_overrides(tmp_path / "absent.yml")
    assert day_verdict(date(2026, 10, 1), overrides).status is DayStatus.holiday


def test_a_year_beyond_the_lunar_tables_is_not_covered() -> None:
    assert day_verdict(date(2100, 3, 3), SHIPPED).status is DayStatus.uncovered
