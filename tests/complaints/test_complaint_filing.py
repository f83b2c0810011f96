"""Filing: ticket numbers, deadlines at a frozen time, category inference, bad input, repeat detection."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from complaints.categories import infer_category
from complaints.deadlines import deadlines_sentence
from complaints.models import Complaint, ComplaintEscalation
from complaints.service import extract_window
from complaints.settings import ComplaintSettings, DeadlineRule
from tests.complaints.conftest import START, FrozenClock, file


def test_numbers_follow_the_local_day_and_count_up(client: TestClient, internal_headers, clock: FrozenClock) -> None:
    first = file(client, internal_headers)
    second = file(client, internal_headers, mobile="13900001111")
    assert first["number"] == "TS20261121-0001"
    assert second["number"] == "TS20261121-0002"
    # 16:00 UTC is midnight in Shanghai: a new day, a new sequence.
    clock.moment = START.replace(hour=16, minute=0)
    assert file(client, internal_headers, mobile="13900002222")["number"] == "TS20261122-0001"


def test_deadlines_are_computed_from_the_frozen_clock(client: TestClient, internal_headers, clock: FrozenClock) -> None:
    filed = file(client, internal_headers)
    assert filed["first_response_due"] == "2026-11-21T07:42:00Z"
    assert filed["plan_due"] == "2026-11-23T07:12:00Z"
    assert filed["deadlines_text"] == "我们将在30分钟内（今天15:42前）首次答复，48小时内（11月23日15:12前）给出处理方案。"


def test_deadline_phrase_crosses_midnight_and_follows_configured_rules() -> None:
    settings = ComplaintSettings(first_response=DeadlineRule(minutes=60), plan=DeadlineRule(minutes=24 * 60))
    now = START.replace(hour=15, minute=50)  # 23:50 in Shanghai
    sentence = deadlines_sentence(now + timedelta(hours=1), now + timedelta(hours=24), now, settings, "Asia/Shanghai")
    assert sentence == "我们将在1小时内（明天00:50前）首次答复，24小时内（明天23:50前）给出处理方案。"


def test_configured_first_response_rule_changes_the_deadline(app, client: TestClient, internal_headers,
                                                             clock: FrozenClock) -> None:
    app.state.settings.complaints.first_response = DeadlineRule(minutes=45)
    filed = file(client, internal_headers)
    assert filed["first_response_due"] == "2026-11-21T07:57:00Z"
    assert "45分钟内（今天15:57前）" in filed["deadlines_text"]


def test_empty_short_and_oversized_descriptions_are_refused(client: TestClient, internal_headers,
                                                            clock: FrozenClock, db_session: Session) -> None:
    base = {"category": "other", "mobile": "13812345678"}
    for description, code in (("", "empty_text"), ("   \n ", "empty_text"), ("太差", "text_too_short"),
                              ("长" * 2001, "text_too_long")):
        response = client.post("/internal/complaints", json={**base, "description": description},
                               headers=internal_headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == code
    assert db_session.scalars(select(Complaint)).all() == []


def test_markup_is_stored_exactly_as_given(client: TestClient, internal_headers, clock: FrozenClock,
                                           db_session: Session) -> None:
    hostile = "<script>alert('x')</script> 窗口人员<b>态度</b>差 & 不理人"
    filed = file(client, internal_headers, description=hostile)
    stored = db_session.scalar(select(Complaint).where(Complaint.number == filed["number"]))
    assert stored is not None and stored.description == hostile


def test_invalid_mobile_and_unknown_category_are_refused(client: TestClient, internal_headers,
                                                         clock: FrozenClock) -> None:
    for mobile in ("12345", "23812345678", "1381234567a", "138123456789"):
        response = client.post("/internal/complaints", headers=internal_headers, json={
            "category": "other", "description": "办事大厅排队太久了没人管", "mobile": mobile})
        assert response.status_code == 422, mobile
        assert response.json()["error"]["code"] == "invalid_request"
    response = client.post("/internal/complaints", headers=internal_headers, json={
        "category": "parking", "description": "办事大厅排队太久了没人管"})
    assert response.status_code == 422


def test_internal_api_requires_the_token(client: TestClient, clock: FrozenClock) -> None:
    response = client.post("/internal/complaints", json={"category": "other", "description": "排队太久没人管"})
    assert response.status_code == 401


def test_anonymous_ticket_gets_a_lookup_code(client: TestClient, internal_headers, clock: FrozenClock,
                                             db_session: Session) -> None:
    filed = file(client, internal_headers, mobile=None, anonymous=True)
    assert filed["lookup_code"] is not None and len(filed["lookup_code"]) == 4
    stored = db_session.scalar(select(Complaint).where(Complaint.number == filed["number"]))
    assert stored is not None and stored.anonymous and stored.mobile is None


def test_windows_are_read_from_the_citizens_words() -> None:
    assert extract_window("在三号窗口办社保") == "3"
    assert extract_window(None, "12号窗口的人很凶") == "12"
    assert extract_window("窗口7") == "7"
    assert extract_window("二十一号 窗口") == "21"
    assert extract_window("大厅门口") is None


def test_category_is_inferred_from_keywords() -> None:
    assert infer_category("工作人员态度恶劣还骂人").category == "staff_attitude"
    assert infer_category("网上办事大厅系统一直打不开").category == "system_failure"
    assert infer_category("办证的时候被索要好处费").category == "fees_integrity"
    assert infer_category("卫生间太脏了").category == "facilities"
    assert infer_category("今天天气不错").category == "other"


def test_repeat_by_the_same_mobile_within_30_days_is_escalated(client: TestClient, internal_headers,
                                                               clock: FrozenClock, db_session: Session) -> None:
    first = file(client, internal_headers, category="efficiency", description="排队等了三个小时还没办好")
    clock.advance(days=29)
    second = file(client, internal_headers, category="facilities", description="大厅空调坏了非常热")
    clock.advance(days=31)
    third = file(client, internal_headers, description="又一次排队等了很久")
    assert first["is_repeat"] is False
    assert second["is_repeat"] is True
    assert third["is_repeat"] is False
    escalation = db_session.scalar(select(ComplaintEscalation))
    assert escalation is not None
    assert escalation.reason == "repeat_citizen"
    assert escalation.related_numbers == [first["number"]]


def test_repeat_by_window_and_category_needs_both(client: TestClient, internal_headers, clock: FrozenClock,
                                                  db_session: Session) -> None:
    file(client, internal_headers, mobile="13800000001", description="5号窗口的人态度很差")
    other_category = file(client, internal_headers, mobile="13800000002", category="efficiency",
                          description="5号窗口办理太慢了")
    same = file(client, internal_headers, mobile="13800000003", location="5号窗口",
                description="工作人员对我大喊大叫")
    assert other_category["is_repeat"] is False
    assert same["is_repeat"] is True
    reasons = [e.reason for e in db_session.scalars(select(ComplaintEscalation))]
    assert reasons == ["repeat_window"]
