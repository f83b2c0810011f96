"""Opening hours kept once, in the catalogue: read, worded for FAQ answers, checked, and used by booking."""

import shutil
from datetime import time
from pathlib import Path

import pytest
import yaml

from appointments.catalogue import ServiceCatalogue
from appointments.offices import load_directory
from appointments.settings import AppointmentSettings
from faq.check import check_directory
from faq.knowledge import read_sources
from faq.opening_hours import WeeklyHours, describe, parse_hours, parse_wording
from faq.settings import FAQ_DIR

WORDING = parse_wording(yaml.safe_load((FAQ_DIR / "catalogue.yml").read_text(encoding="utf-8"))["hours_wording"])
WEEKDAYS = ["09:00-12:00", "13:30-17:00"]

# hours mapping -> how an answer words it
WORDED = [
    ({"workdays": WEEKDAYS}, "周一至周五 9:00-12:00、13:30-17:00"),
    ({"workdays": WEEKDAYS, "saturday": ["09:00-12:00"], "note": "仅办理身份证业务"},
     "周一至周五 9:00-12:00、13:30-17:00；周六上午 9:00-12:00（仅办理身份证业务）"),
    ({"workdays": WEEKDAYS, "saturday": ["09:00-17:00"]}, "周一至周五 9:00-12:00、13:30-17:00；周六全天 9:00-17:00"),
    ({"workdays": WEEKDAYS, "saturday": ["13:30-17:00"]}, "周一至周五 9:00-12:00、13:30-17:00；周六下午 13:30-17:00"),
    ({"workdays": WEEKDAYS, "saturday": ["09:00-12:00"], "sunday": ["09:00-12:00"]},
     "周一至周五 9:00-12:00、13:30-17:00；周六、周日上午 9:00-12:00"),
    ({"workdays": WEEKDAYS, "sunday": WEEKDAYS}, "周一至周五 9:00-12:00、13:30-17:00；周日 9:00-12:00、13:30-17:00"),
]


@pytest.mark.parametrize(("raw", "worded"), WORDED, ids=[row[1] for row in WORDED])
def test_hours_are_worded_as_answers_say_them(raw: dict, worded: str) -> None:
    assert describe(parse_hours(raw), WORDING) == worded


# malformed hours -> a word of the message
MALFORMED = [
    ("周一至周五 9:00-17:00", None),  # a text is not a mapping (the FAQ accepts it as plain text)
    ({"workdays": ["9点-12点"]}, "is not a range"),
    ({"workdays": ["12:00-09:00"]}, "ends before it starts"),
    ({"workdays": ["09:00-12:00", "11:00-13:00"]}, "overlap"),
    ({"workdays": ["09:00-25:00"]}, "not a time of day"),
    ({"weekdays": WEEKDAYS}, "unknown keys"),
    ({"workdays": []}, "opens on no day"),
    ({"workdays": [540]}, "quote it"),  # YAML reads an unquoted 09:00 as the number 540
]


@pytest.mark.parametrize(("raw", "word"), MALFORMED, ids=[str(row[0]) for row in MALFORMED])
def test_malformed_hours_are_refused_with_the_reason(raw: object, word: str | None) -> None:
    with pytest.raises(ValueError, match=word or "must map"):
        parse_hours(raw)


def test_every_bookable_service_has_weekly_hours_in_the_catalogue() -> None:
    settings = AppointmentSettings()
    catalogue = ServiceCatalogue(settings.catalogue_path)
    for service_id in load_directory(settings.offices_path).bookable_services():
        assert isinstance(catalogue.hours(service_id), WeeklyHours), service_id
    id_card = catalogue.hours("id_card")
    assert id_card is not None and id_card.saturday == ((time(9, 0), time(12, 0)),)
    assert id_card == read_sources(FAQ_DIR).services["id_card"].opening_hours


def test_faq_check_reports_malformed_hours(tmp_path: Path) -> None:
    root = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__", "heldout*"))
    path = root / "catalogue.yml"
    text = path.read_text(encoding="utf-8")
    old = 'hours: {workdays: *weekday_hours, saturday: ["09:00-12:00"], note: "仅办理身份证业务"}'
    assert old in text
    path.write_text(text.replace(old, 'hours: {workdays: *weekday_hours, saturday: ["9:00-"]}', 1), encoding="utf-8")
    problems = [str(problem) for problem in check_directory(root)]
    assert any("service 'id_card'" in problem and "is not a range" in problem for problem in problems)


def test_structured_hours_need_the_wording(tmp_path: Path) -> None:
    root = tmp_path / "faq"
    shutil.copytree(FAQ_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__", "heldout*"))
    path = root / "catalogue.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  all_day: 全天\n", "", 1), encoding="utf-8")
    problems = [str(problem) for problem in check_directory(root)]
    assert any("'hours_wording' lacks all_day" in problem for problem in problems)
