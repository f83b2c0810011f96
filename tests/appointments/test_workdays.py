"""Working days: State Council holidays, make-up workdays (调休), operator overrides, uncovered years."""

from datetime import date
from pathlib import Path

import pytest

from appointments.enums import DayStatus
from appointments.settings import AppointmentSettings
from appointments.workdays import day_verdict, load_overrides, package_years, parse_overrides

SHIPPED = load_overrides(AppointmentSettings().calendar_overrides_path)


def test_national_day_is_a_holiday() -> None:
    verdict = day_verdict(date(2026, 10, 1), SHIPPED)
    assert verdict.status is DayStatus.holiday
    assert verdict.holiday_name == "National Day"


def test_make_up_saturday_is_open() -> None:
    # 2026-10-10 is a Saturday worked in exchange for the National Day week.
    assert date(2026, 10, 10).weekday() == 5
    assert day_verdict(date(2026, 10, 10), SHIPPED).is_open


def test_ordinary_weekend_and_weekday() -> None:
    assert day_verdict(date(2026, 11, 21), SHIPPED).status is DayStatus.weekend
    assert day_verdict(date(2026, 11, 23), SHIPPED).is_open


def test_year_not_covered_by_any_source_is_refused() -> None:
    assert 2027 not in package_years()
    assert day_verdict(date(2027, 3, 3), SHIPPED).status is DayStatus.uncovered


def test_known_statutory_day_of_an_unpublished_year_is_a_holiday() -> None:
    verdict = day_verdict(date(2027, 1, 1), SHIPPED)
    assert verdict.status is DayStatus.holiday
    assert verdict.holiday_name == "元旦"


def test_complete_override_year_opens_weekdays_and_its_make_up_days() -> None:
    overrides = parse_overrides({"years": {2027: {"complete": True, "holidays": {"2027-02-08": "春节"},
                                                  "workdays": {"2027-02-20": "春节调休"}}}})
    assert day_verdict(date(2027, 3, 3), overrides).is_open
    assert day_verdict(date(2027, 2, 8), overrides).status is DayStatus.holiday
    assert day_verdict(date(2027, 2, 20), overrides).is_open
    assert day_verdict(date(2027, 2, 21), overrides).status is DayStatus.weekend


def test_override_corrects_the_package() -> None:
    overrides = parse_overrides({"years": {2026: {"holidays": {"2026-11-23": "临时闭馆"}}}})
    verdict = day_verdict(date(2026, 11, 23), overrides)
    assert verdict.status is DayStatus.holiday and verdict.holiday_name == "临时闭馆"


def test_a_date_cannot_be_both_holiday_and_workday() -> None:
    with pytest.raises(ValueError):
        parse_overrides({"years": {2027: {"holidays": {"2027-01-04": "x"}, "workdays": {"2027-01-04": "y"}}}})


def test_missing_override_file_means_package_only(tmp_path: Path) -> None:
    overrides = load_overrides(tmp_path / "absent.yml")
    assert day_verdict(date(2026, 10, 1), overrides).status is DayStatus.holiday
