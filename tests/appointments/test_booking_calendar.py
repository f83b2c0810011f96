"""The booking calendar as citizens meet it: weekend hours from the catalogue, the booking horizon, and
years whose holiday schedule is not published yet. Runs on a copy of the real service catalogue."""

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appointments.schedule import AppointmentRules
from appointments.workdays import package_years, statutory_holidays
from faq.knowledge import read_sources
from faq.render import render_template
from faq.settings import FAQ_DIR
from tests.appointments.conftest import booking_body

BASE = "/internal/appointments"
SATURDAY, SUNDAY = "2026-11-21", "2026-11-22"


@pytest.fixture
def catalogue_path(tmp_path: Path) -> Path:
    """A copy of the real catalogue (faq/catalogue.yml), which the booking rules read."""
    target = tmp_path / "faq"
    target.mkdir()
    for name in ("catalogue.yml", "aspects.yml"):
        shutil.copy(FAQ_DIR / name, target / name)
    shutil.copytree(FAQ_DIR / "entries", target / "entries")
    return target / "catalogue.yml"


def availability(client: TestClient, headers: dict, **query: object) -> dict:
    """POSTs an availability query."""
    response = client.post(f"{BASE}/availability", json=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# (service, day, part) -> free slot starts: the catalogue opens ID-card windows on Saturday mornings,
# the exit-entry windows all Saturday, household registration on working days only.
WEEKEND_TABLE = [
    ("id_card", SATURDAY, None, ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]),
    ("id_card", SATURDAY, "morning", ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]),
    ("id_card_loss", SATURDAY, None, ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]),
    ("id_card", SATURDAY, "afternoon", []),
    ("id_card", SUNDAY, None, []),
    ("passport", SATURDAY, "afternoon", ["12:00", "12:30", "13:00", "13:30", "14:00", "14:30", "15:00",
                                         "15:30", "16:00", "16:30"]),
    ("driving_license", SATURDAY, None, ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]),
    ("hukou", SATURDAY, None, []),
]


@pytest.mark.parametrize(("service_id", "day", "part", "starts"), WEEKEND_TABLE,
                         ids=[f"{row[0]}-{row[1]}-{row[2]}" for row in WEEKEND_TABLE])
def test_weekend_slots_follow_the_catalogue_hours(client: TestClient, internal_headers, set_clock,
                                                  service_id: str, day: str, part: str | None,
                                                  starts: list[str]) -> None:
    answer = availability(client, internal_headers, service_id=service_id, day=day, part=part)
    assert [slot["start"] for slot in answer["slots"]] == starts
    assert answer["available"] is bool(starts)


def test_saturday_morning_id_card_can_be_booked(client: TestClient, internal_headers, set_clock) -> None:
    answer = availability(client, internal_headers, service_id="id_card", day=SATURDAY, start="10:00")
    assert answer["available"] is True and answer["day_status"] == "open"
    booked = client.post(f"{BASE}/bookings", json=booking_body(service_id="id_card", day=SATURDAY),
                         headers=internal_headers)
    assert booked.status_code == 201, booked.text
    assert booked.json()["label"] == "11月21日（周六）10:00-10:30"
    afternoon = client.post(f"{BASE}/bookings", json=booking_body(service_id="id_card", day=SATURDAY,
                                                                  start="14:00", mobile="13900000001"),
                            headers=internal_headers)
    assert afternoon.status_code == 400 and afternoon.json()["error"]["code"] == "outside_hours"
    assert "09:00-12:00" in afternoon.json()["error"]["message"]
    sunday = client.post(f"{BASE}/bookings", json=booking_body(service_id="id_card", day=SUNDAY,
                                                               mobile="13900000002"), headers=internal_headers)
    assert sunday.status_code == 400 and sunday.json()["error"]["code"] == "weekend"
    closed = availability(client, internal_headers, service_id="hukou", day=SATURDAY)
    assert closed["reason_code"] == "weekend" and "周末" in closed["reason"]


def test_a_saturday_holiday_stays_closed_for_saturday_services(client: TestClient, internal_headers,
                                                               set_clock) -> None:
    # 2027-05-01 is a Saturday and Labour Day.
    set_clock(datetime(2027, 4, 26, 10, 0))
    answer = availability(client, internal_headers, service_id="id_card", day="2027-05-01")
    assert answer["available"] is False and answer["reason_code"] == "holiday"
    assert "劳动节" in answer["reason"]


def test_faq_answer_and_booking_read_the_same_hours(catalogue_path: Path, rules: AppointmentRules) -> None:
    text = catalogue_path.read_text(encoding="utf-8")
    old = 'hours: {workdays: *weekday_hours, saturday: ["09:00-12:00"]}\n'
    assert text.count(old) == 1, "driving_license's hours"
    catalogue_path.write_text(text.replace(old, 'hours: {workdays: *weekday_hours, saturday: ["09:00-10:00"]}\n'),
                              encoding="utf-8")
    sources = read_sources(catalogue_path.parent)
    assert not sources.problems
    entry = next(e for e in sources.entries if e.service == "driving_license" and "{hours}" in e.answer)
    answer = render_template(entry.answer, sources.services["driving_license"])
    assert "周一至周五 9:00-12:00、13:30-17:00；周六上午 9:00-10:00" in answer
    office = rules.directory.office_for("driving_license")
    assert office is not None
    saturday = date.fromisoformat(SATURDAY)
    assert [start.strftime("%H:%M") for start in rules.slot_starts(office, "driving_license", saturday)] == [
        "09:00", "09:30"]
    assert rules.service_hours(office, "driving_license") == sources.services["driving_license"].opening_hours


# (asked day, part) on Tuesday 2026-12-01: the horizon ends on 12-15.
HORIZON_TABLE = [
    ("2026-12-25", "morning"),
    ("2026-12-25", "afternoon"),
    ("2026-12-26", None),   # a Saturday, past the horizon
    ("2027-01-01", None),   # 元旦, past the horizon
]


@pytest.mark.parametrize(("day", "part"), HORIZON_TABLE, ids=[f"{row[0]}-{row[1]}" for row in HORIZON_TABLE])
def test_past_the_horizon_says_how_far_ahead_and_offers_slots_inside_it(client: TestClient, internal_headers,
                                                                         set_clock, day: str,
                                                                         part: str | None) -> None:
    set_clock(datetime(2026, 12, 1, 10, 0))
    answer = availability(client, internal_headers, service_id="passport", day=day, part=part)
    assert answer["available"] is False and answer["reason_code"] == "beyond_horizon"
    assert "目前可预约未来14天内（至12月15日）的时段" in answer["reason"]
    assert "没有可预约的时段" not in answer["reason"]
    alternatives = answer["alternatives"]
    assert len(alternatives) == 3
    assert all(slot["day"] <= "2026-12-15" for slot in alternatives)
    if part == "morning":
        assert all(slot["start"] < "12:00" for slot in alternatives)
    if part == "afternoon":
        assert all(slot["start"] >= "12:00" for slot in alternatives)
    if day == "2027-01-01":
        assert "元旦" in answer["reason"]


def test_booking_past_the_horizon_says_how_far_ahead(client: TestClient, internal_headers, set_clock) -> None:
    set_clock(datetime(2026, 12, 1, 10, 0))
    refused = client.post(f"{BASE}/bookings", json=booking_body(day="2026-12-25"), headers=internal_headers)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "beyond_horizon"
    assert "目前可预约未来14天内（至12月15日）的时段" in refused.json()["error"]["message"]


def test_a_full_morning_offers_other_mornings_first(client: TestClient, internal_headers, set_clock) -> None:
    # Thursday 2026-11-19: every morning slot of hukou taken (capacity 3) -> the nearest mornings, not the
    # afternoon before, which is closer in time.
    for index, start in enumerate(["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"] * 3):
        body = booking_body(service_id="hukou", day="2026-11-19", start=start, mobile=f"139{index:08d}")
        assert client.post(f"{BASE}/bookings", json=body, headers=internal_headers).status_code == 201
    answer = availability(client, internal_headers, service_id="hukou", day="2026-11-19", part="morning")
    assert answer["reason_code"] == "no_free_slot"
    assert [(slot["day"], slot["start"]) for slot in answer["alternatives"]] == [
        ("2026-11-18", "11:00"), ("2026-11-18", "11:30"), ("2026-11-20", "09:00")]


def first_unpublished_year() -> int:
    """The first year the installed chinesecalendar does not publish."""
    return max(package_years()) + 1


def first_open_weekday(year: int) -> date:
    """The first Monday-to-Friday of a year that is no statutory holiday."""
    day = date(year, 1, 2)
    while day.weekday() >= 5 or day in statutory_holidays(year):
        day += timedelta(days=1)
    return day


def test_an_unpublished_year_is_bookable_with_a_notice(client: TestClient, internal_headers, set_clock) -> None:
    year = first_unpublished_year()
    set_clock(datetime(year - 1, 12, 24, 10, 0))
    day = first_open_weekday(year)
    answer = availability(client, internal_headers, service_id="passport", day=day.isoformat())
    assert answer["available"] is True and answer["slots"]
    assert f"{year}年的节假日安排国务院尚未公布" in answer["notice"]
    new_year = availability(client, internal_headers, service_id="passport", day=f"{year}-01-01")
    assert new_year["reason_code"] == "holiday" and "元旦" in new_year["reason"]
    assert new_year["notice"]
    this_year = availability(client, internal_headers, service_id="passport", day=f"{year - 1}-12-28")
    assert this_year["notice"] is None
    booked = client.post(f"{BASE}/bookings", json=booking_body(day=day.isoformat()), headers=internal_headers)
    assert booked.status_code == 201, booked.text


def test_january_first_said_in_december_is_next_year(client: TestClient, internal_headers, set_clock) -> None:
    set_clock(datetime(2026, 12, 1, 10, 0))
    when = client.post(f"{BASE}/when", json={"text": "预约1月1日办身份证"}, headers=internal_headers).json()
    assert when["day"] == "2027-01-01" and when["problem"] is None
