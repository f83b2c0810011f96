"""The KPI queries on a seeded week: exact containment, waits, CSAT, complaint compliance, no-shows, error rate.

Run with -s to see the figures; they are also written to
test-artifacts/dashboard-seeded-kpis.json.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from appointments.schedule import AppointmentRules
from complaints.settings import ComplaintSettings
from dashboard.figures import percentile
from dashboard.flows import Sources, compute
from dashboard.periods import Grain, make_period
from tests.dashboard.seed import NOW, ODD_QUESTION, Seeded

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard-seeded-kpis.json"
TITLES = {"social_security_card_apply": "社保卡申领", "passport_apply": "护照申请", "id_card_lost": "身份证挂失"}
REASONS = {"urgent": "紧急", "emotional": "情绪", "explicit": "主动要求", "complex": "复杂问题"}


def figures_for(db_session: Session, rules: AppointmentRules, grain: Grain) -> dict[str, Any]:
    """Every section of the dashboard for the seeded data at the seed's "now"."""
    return compute(Sources(db_session=db_session, period=make_period(grain, NOW, "Asia/Shanghai"), now=NOW,
                           titles=TITLES, reason_labels=REASONS, complaint_settings=ComplaintSettings(),
                           directory=rules.directory))


@pytest.fixture
def day(db_session: Session, rules: AppointmentRules, seeded: Seeded) -> dict[str, Any]:
    """The day view (11-12..11-18) of the seeded week."""
    return figures_for(db_session, rules, Grain.day)


@pytest.fixture
def week(db_session: Session, rules: AppointmentRules, seeded: Seeded) -> dict[str, Any]:
    """The week view (eight ISO weeks to 11-22) of the seeded data."""
    return figures_for(db_session, rules, Grain.week)


def by_bucket(series: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return {row["bucket"]: row[key] for row in series}


def test_periods_are_local_days_and_iso_weeks() -> None:
    days = make_period(Grain.day, NOW, "Asia/Shanghai")
    assert [b.key for b in days.buckets] == [f"2026-11-{d}" for d in range(12, 19)]
    # Local midnight in Shanghai is 16:00 UTC the day before.
    assert days.start == datetime(2026, 11, 11, 16, 0, tzinfo=UTC)
    assert days.end == datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    weeks = make_period(Grain.week, NOW, "Asia/Shanghai")
    assert [b.key for b in weeks.buckets][0] == "2026-W40" and weeks.buckets[-1].key == "2026-W47"
    assert weeks.first_day.isoformat() == "2026-09-28" and weeks.last_day.isoformat() == "2026-11-22"


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([42], 0.95) == 42
    assert percentile([30, 60, 120, 600], 0.5) == 90.0
    assert percentile([600, 30, 120, 60], 0.95) == 528.0


def test_conversations_and_containment(day: dict[str, Any], week: dict[str, Any]) -> None:
    conversations = day["conversations"]
    # c1 wrote on the 16th and the 17th: one conversation each day. The bot-only greeting is no conversation.
    assert by_bucket(conversations["series"], "conversations")["2026-11-17"] == 4
    assert conversations["total"] == {"conversations": 11, "handed_over": 3, "contained": 8,
                                      "containment": 0.7273, "first_response_seconds": 3.27}
    assert by_bucket(conversations["series"], "containment") == {
        "2026-11-12": None, "2026-11-13": None, "2026-11-14": None, "2026-11-15": None,
        "2026-11-16": 0.5, "2026-11-17": 0.75, "2026-11-18": 0.8}
    assert conversations["target"] == 0.7
    # c10 wrote twice before the bot answered: 10 s from its first message.
    assert by_bucket(conversations["series"], "first_response_seconds")["2026-11-18"] == 4.4
    # By week c1 counts once in W47, and the early handed-over conversation joins W45.
    assert by_bucket(week["conversations"]["series"], "containment")["2026-W47"] == 0.7
    assert by_bucket(week["conversations"]["series"], "containment")["2026-W45"] == 0.0
    assert week["conversations"]["total"]["containment"] == 0.6364


def test_faq_statuses_error_rate_and_top_lists(day: dict[str, Any]) -> None:
    faq = day["faq"]
    assert faq["total"] == {"answered": 8, "clarified": 3, "unknown": 2, "total": 13, "abandoned": 2, "errors": 4,
                            "error_rate": 0.3077}
    # c3 got its answer two minutes after the clarifying question; c4 never; c7 only after fifteen minutes.
    assert by_bucket(faq["series"], "abandoned") == {
        "2026-11-12": 0, "2026-11-13": 0, "2026-11-14": 0, "2026-11-15": 0,
        "2026-11-16": 0, "2026-11-17": 1, "2026-11-18": 1}
    assert faq["top_questions"] == [
        {"entry_id": "passport_apply", "title": "护照申请", "count": 3},
        {"entry_id": "social_security_card_apply", "title": "社保卡申领", "count": 3},
        {"entry_id": "id_card_lost", "title": "身份证挂失", "count": 2}]
    assert faq["top_unanswered"][0] == {"question": ODD_QUESTION, "count": 2}
    assert len(faq["top_unanswered"]) == 4


def test_handoffs_waits_and_handling(day: dict[str, Any], week: dict[str, Any]) -> None:
    handoffs = day["handoffs"]
    assert {k: handoffs["total"][k] for k in ("urgent", "emotional", "explicit", "complex", "total", "claimed")} == \
        {"urgent": 1, "emotional": 1, "explicit": 1, "complex": 2, "total": 5, "claimed": 4}
    # Waits 30, 60, 120 and 600 seconds; the queued ticket has none yet.
    assert handoffs["total"]["wait_p50_seconds"] == 90.0
    assert handoffs["total"]["wait_p95_seconds"] == 528.0
    assert by_bucket(handoffs["series"], "wait_p50_seconds")["2026-11-16"] == 330.0
    assert [(a["name"], a["count"], a["average_seconds"]) for a in handoffs["agents"]] == [
        ("坐席alice", 2, 900.0), ("坐席bob", 2, 600.0)]
    assert week["handoffs"]["total"]["wait_p50_seconds"] == 60.0
    assert week["handoffs"]["total"]["wait_p95_seconds"] == 504.0


def test_satisfaction(day: dict[str, Any], week: dict[str, Any]) -> None:
    satisfaction = day["satisfaction"]
    assert satisfaction["total"] == {"count": 4, "average": 4.0}
    assert [(d["rating"], d["count"]) for d in satisfaction["distribution"]] == [(1, 0), (2, 1), (3, 0), (4, 1), (5, 2)]
    assert satisfaction["distribution"][4]["share"] == 0.5
    assert by_bucket(satisfaction["series"], "average")["2026-11-17"] == 2.0
    assert week["satisfaction"]["total"] == {"count": 5, "average": 3.8}


def test_complaint_compliance_overdue_and_repeats(day: dict[str, Any], week: dict[str, Any],
                                                  seeded: Seeded) -> None:
    complaints = day["complaints"]
    assert complaints["rules"] == {"first_response": "30分钟", "plan": "48小时"}
    # First response: K8, K5, K1 on time; K2 late, K3 overdue; K4 not due yet; K6 withdrawn before it.
    assert complaints["total"]["first_response"] == {"on_time": 3, "late": 2, "share": 0.6}
    # Plan: K8, K1 on time; K5 an hour late; K2, K3, K4 not due yet.
    assert complaints["total"]["plan"] == {"on_time": 2, "late": 1, "share": 0.6667}
    assert complaints["total"]["count"] == 7 and complaints["total"]["repeats"] == 1
    assert [r["number"] for r in complaints["repeats"]] == [seeded.complaints["K4"]]
    assert complaints["repeats"][0]["escalated"] is True
    # What is overdue now, whenever it was filed, oldest deadline first.
    assert [(r["number"], r["step"], r["overdue_minutes"]) for r in complaints["overdue"]] == [
        (seeded.complaints["K7"], "plan", 21780), (seeded.complaints["K3"], "first_response", 1530)]
    assert [(r["key"], r["count"], r["repeats"]) for r in complaints["by_category"]][:2] == [
        ("efficiency", 2, 0), ("staff_attitude", 2, 1)]
    assert {r["key"]: r["count"] for r in complaints["by_window"]} == {"": 2, "3": 2, "5": 2, "7": 1}
    assert week["complaints"]["total"]["first_response"] == {"on_time": 5, "late": 2, "share": 0.7143}
    assert week["complaints"]["total"]["plan"] == {"on_time": 3, "late": 2, "share": 0.6}


def test_bookings_no_shows_and_window_load(day: dict[str, Any], week: dict[str, Any]) -> None:
    bookings = day["bookings"]
    assert bookings["total"] == {"booked": 1, "cancelled": 1, "checked_in": 4, "no_show": 2, "bookings": 7,
                                 "no_show_rate": 0.3333}
    assert by_bucket(bookings["series"], "no_show_rate")["2026-11-12"] == 0.5
    assert [(w["window_id"], w["count"]) for w in bookings["windows"]] == [("A09", 6), ("A10", 1)]
    assert bookings["windows"][0]["window"].startswith("一楼 A09")
    assert week["bookings"]["total"]["no_show_rate"] == 0.4286


def test_headline_and_the_printed_figures(day: dict[str, Any], week: dict[str, Any]) -> None:
    assert day["headline"] == {
        "containment": 0.7273, "containment_target": 0.7, "conversations": 11, "first_response_seconds": 3.27,
        "error_rate": 0.3077, "faq_questions": 13, "csat_average": 4.0, "csat_count": 4, "handoffs": 5,
        "wait_p50_seconds": 90.0, "first_response_compliance": 0.6, "plan_compliance": 0.6667,
        "no_show_rate": 0.3333}
    quoted = {}
    for name, figures in (("day", day), ("week", week)):
        quoted[name] = {
            "headline": figures["headline"],
            "containment_by_bucket": by_bucket(figures["conversations"]["series"], "containment"),
            "wait_seconds": {k: figures["handoffs"]["total"][k] for k in ("wait_p50_seconds", "wait_p95_seconds")},
            "handling_by_agent": figures["handoffs"]["agents"],
            "csat": figures["satisfaction"]["total"] | {"distribution": {
                d["rating"]: d["count"] for d in figures["satisfaction"]["distribution"]}},
            "faq": figures["faq"]["total"],
            "complaint_compliance": {k: figures["complaints"]["total"][k] for k in ("first_response", "plan")},
            "complaints_overdue_now": [(r["number"], r["step"], r["overdue_minutes"])
                                       for r in figures["complaints"]["overdue"]],
            "repeat_complaints": figures["complaints"]["total"]["repeats"],
            "bookings": figures["bookings"]["total"],
        }
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(quoted, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\nseeded dashboard figures:\n" + json.dumps(quoted, ensure_ascii=False, indent=1))


@pytest.mark.postgres
def test_the_same_figures_on_postgresql(postgres_url: str, rules: AppointmentRules, day: dict[str, Any],
                                        week: dict[str, Any]) -> None:
    from dashboard.live import read_fingerprint
    from service.database import Database
    from tests.dashboard.seed import seed

    database = Database(postgres_url)
    try:
        with database.session() as db_session:
            seed(db_session, rules)
            on_postgres = {grain: figures_for(db_session, rules, grain) for grain in Grain}
        assert len(read_fingerprint(database)) == 10
    finally:
        database.dispose()
    for grain, on_sqlite in ((Grain.day, day), (Grain.week, week)):
        for section in ("headline", "conversations", "faq", "handoffs", "satisfaction", "bookings"):
            expected = on_sqlite[section]
            if section == "handoffs":
                expected = {**expected, "agents": [{**a, "agent_id": None} for a in expected["agents"]]}
                got = {**on_postgres[grain][section],
                       "agents": [{**a, "agent_id": None} for a in on_postgres[grain][section]["agents"]]}
            else:
                got = on_postgres[grain][section]
            assert got == expected, (grain, section)
        assert [r["step"] for r in on_postgres[grain]["complaints"]["overdue"]] == ["plan", "first_response"]
        assert on_postgres[grain]["complaints"]["total"] == on_sqlite["complaints"]["total"]
