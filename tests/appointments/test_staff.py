"""The appointments desk: the day per window with counts, search by code or mobile (masked), check-in and
no-show, CSV export, escaping, and who may use it (real console sign-in, roles, CSRF)."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments.models import Booking
from staff.enums import StaffRole
from tests.appointments.conftest import booking_body

DAY = "2026-11-19"
MOBILES = ("13800138000", "13900139000", "13700137000")


def make_bookings(client: TestClient, headers: dict) -> list[str]:
    """Books three citizens on 2026-11-19, one with a hostile name and one with a formula for a name."""
    codes = []
    for mobile, name, service in ((MOBILES[0], "张三", "passport"), (MOBILES[1], "<script>x</script>", "passport"),
                                  (MOBILES[2], "=HYPERLINK(1)", "id_card")):
        response = client.post("/internal/appointments/bookings", headers=headers,
                               json=booking_body(mobile=mobile, name=name, service_id=service))
        assert response.status_code == 201, response.text
        codes.append(response.json()["code"])
    return codes


def statuses(db_session: Session) -> dict[str, str]:
    """Every booking's status by code, read from the database."""
    db_session.expire_all()
    found = {b.code: b.status for b in db_session.scalars(select(Booking))}
    # Every SQLite transaction here takes the write lock: end it before the app writes again.
    db_session.rollback()
    return found


def test_without_a_session_apis_answer_401_and_the_page_sends_to_login(client: TestClient, set_clock) -> None:
    assert client.get("/api/appointments/day").status_code == 401
    assert client.post("/api/appointments/bookings/ABCDEF/check-in").status_code == 401
    assert client.post("/api/appointments/search", json={"query": "1234"}).status_code == 401
    assert client.get("/api/appointments/export.csv").status_code == 401
    page = client.get("/console/appointments", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console/login"
    assert client.get("/api/appointments/day", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_an_operator_is_refused_the_desk(client: TestClient, internal_headers, sign_in_as, set_clock,
                                         db_session: Session) -> None:
    codes = make_bookings(client, internal_headers)
    csrf = sign_in_as(StaffRole.operator)
    assert client.get("/api/appointments/day").status_code == 403
    refused = client.post(f"/api/appointments/bookings/{codes[0]}/check-in", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    page = client.get("/console/appointments")
    assert page.status_code == 403 and 'id="forbidden-message"' in page.text
    assert client.post(f"/console/appointments/{codes[0]}/check-in", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 403
    assert set(statuses(db_session).values()) == {"booked"}


@pytest.mark.parametrize("role", [StaffRole.agent, StaffRole.supervisor])
def test_agents_and_supervisors_use_the_desk(client: TestClient, internal_headers, sign_in_as, set_clock,
                                             role: StaffRole) -> None:
    codes = make_bookings(client, internal_headers)
    csrf = sign_in_as(role)
    assert client.get("/api/appointments/day", params={"day": DAY}).status_code == 200
    marked = client.post(f"/api/appointments/bookings/{codes[0]}/check-in", headers={"X-CSRF-Token": csrf})
    assert marked.status_code == 200 and marked.json() == {"code": codes[0], "status": "checked_in"}


def test_day_per_window_with_counts_check_in_and_no_show(client: TestClient, internal_headers, sign_in_as,
                                                          set_clock) -> None:
    codes = make_bookings(client, internal_headers)
    csrf = {"X-CSRF-Token": sign_in_as()}
    day = client.get("/api/appointments/day", params={"day": DAY}).json()
    by_window = {w["window_id"]: [b["code"] for b in w["bookings"]] for w in day["windows"]}
    assert sorted(by_window["G01-G03"] + by_window["G04-G06"]) == sorted(codes[:2])
    # Two citizens in one slot go to the two passport window groups, not the same one.
    assert len(by_window["G01-G03"]) == len(by_window["G04-G06"]) == 1
    assert by_window["A01-A06"] == [codes[2]]
    assert all(re.fullmatch(r"1\d\d\*{4}\d{4}", b["mobile_masked"]) for w in day["windows"] for b in w["bookings"])
    assert not any(mobile in str(day) for mobile in MOBILES)
    checked = client.post(f"/api/appointments/bookings/{codes[0]}/check-in", headers=csrf)
    assert checked.status_code == 200 and checked.json()["status"] == "checked_in"
    twice = client.post(f"/api/appointments/bookings/{codes[0]}/no-show", headers=csrf)
    assert twice.status_code == 409
    missed = client.post(f"/api/appointments/bookings/{codes[1]}/no-show", headers=csrf)
    assert missed.json()["status"] == "no_show"
    day = client.get("/api/appointments/day", params={"day": DAY}).json()
    assert day["counts"] == {"booked": 1, "checked_in": 1, "no_show": 1, "cancelled": 0, "total": 3}
    passport = [w for w in day["windows"] if w["window_id"] in ("G01-G03", "G04-G06")]
    assert sorted((w["counts"]["checked_in"], w["counts"]["no_show"]) for w in passport) == [(0, 1), (1, 0)]


def test_bad_input_changes_nothing(client: TestClient, internal_headers, sign_in_as, set_clock,
                                   db_session: Session) -> None:
    make_bookings(client, internal_headers)
    csrf = {"X-CSRF-Token": sign_in_as()}
    before = statuses(db_session)
    unknown = client.post("/api/appointments/bookings/ZZZZZZ/check-in", headers=csrf)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "booking_not_found"
    malformed = client.post("/api/appointments/bookings/A!B%3C/check-in", headers=csrf)
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "invalid_code"
    assert client.post(f"/api/appointments/bookings/{'A' * 40}/check-in", headers=csrf).status_code == 422
    assert client.get("/api/appointments/day", params={"day": "2026-02-30"}).status_code == 422
    assert client.get("/api/appointments/day", params={"office_id": "nowhere"}).status_code == 404
    assert client.get("/api/appointments/day", params={"office_id": "x" * 100}).status_code == 422
    assert client.post("/api/appointments/search", json={"query": "1" * 200}, headers=csrf).status_code == 422
    assert client.post("/api/appointments/search", json={"query": "12345"}, headers=csrf).status_code == 422
    assert client.post("/api/appointments/search", json={"query": ""}, headers=csrf).status_code == 422
    token = csrf["X-CSRF-Token"]
    assert client.post("/console/appointments/search", data={"query": "1" * 200, "csrf_token": token}).status_code == 422
    page = client.post("/console/appointments/search", data={"query": "1" * 40, "csrf_token": token})
    assert page.status_code == 422 and 'id="desk-problem"' in page.text
    odd = client.post("/console/appointments/ZZZZZZ/explode", data={"csrf_token": token},
                      follow_redirects=False)
    assert odd.status_code == 303 and "error=invalid_action" in odd.headers["location"]
    assert statuses(db_session) == before


def test_changes_need_the_sessions_csrf_token(client: TestClient, internal_headers, sign_in_as, set_clock,
                                              db_session: Session) -> None:
    codes = make_bookings(client, internal_headers)
    csrf = sign_in_as()
    missing = client.post(f"/api/appointments/bookings/{codes[0]}/check-in")
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    wrong = client.post(f"/api/appointments/bookings/{codes[0]}/check-in", headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    assert client.post("/api/appointments/search", json={"query": codes[0]}).status_code == 403
    form = client.post(f"/console/appointments/{codes[1]}/no-show", data={"day": DAY}, follow_redirects=False)
    assert form.status_code == 403
    assert client.post("/console/appointments/search", data={"query": codes[0]}).status_code == 403
    assert set(statuses(db_session).values()) == {"booked"}
    ok = client.post(f"/console/appointments/{codes[1]}/no-show", data={"csrf_token": csrf, "day": DAY},
                     follow_redirects=False)
    assert ok.status_code == 303 and statuses(db_session)[codes[1]] == "no_show"


def test_search_by_code_finds_it_on_any_day(client: TestClient, internal_headers, sign_in_as, set_clock) -> None:
    codes = make_bookings(client, internal_headers)
    csrf = {"X-CSRF-Token": sign_in_as()}
    # Typed in lower case with a dash, on another day than the booking's.
    typed = f"{codes[0][:3].lower()}-{codes[0][3:].lower()}"
    found = client.post("/api/appointments/search", json={"query": typed, "day": "2026-11-18"}, headers=csrf).json()
    assert found["kind"] == "code" and [b["code"] for b in found["bookings"]] == [codes[0]]
    assert found["bookings"][0]["mobile_masked"] == "138****8000" and found["bookings"][0]["day"] == DAY
    assert MOBILES[0] not in str(found)


def test_search_by_mobile_shows_only_the_masked_number(client: TestClient, internal_headers, sign_in_as,
                                                       set_clock) -> None:
    codes = make_bookings(client, internal_headers)
    csrf = {"X-CSRF-Token": sign_in_as()}
    by_last4 = client.post("/api/appointments/search", json={"query": "9000", "day": DAY}, headers=csrf)
    assert by_last4.status_code == 200
    assert by_last4.json() == {"kind": "mobile_last4", "query": "9000", "bookings": [
        {**by_last4.json()["bookings"][0], "code": codes[1], "mobile_masked": "139****9000"}]}
    whole = client.post("/api/appointments/search", json={"query": "138 0013 8000", "day": DAY}, headers=csrf)
    assert whole.json()["kind"] == "mobile" and whole.json()["query"] == "138****8000"
    assert [b["code"] for b in whole.json()["bookings"]] == [codes[0]]
    assert MOBILES[0] not in whole.text and "13800138000" not in whole.text.replace(" ", "")
    # The id_card booking is in the same hall; a mobile looks only at the chosen day.
    assert client.post("/api/appointments/search", json={"query": "7000", "day": "2026-11-20"},
                       headers=csrf).json()["bookings"] == []
    page = client.post("/console/appointments/search", data={"query": MOBILES[0], "day": DAY,
                                                             "csrf_token": csrf["X-CSRF-Token"]})
    assert page.status_code == 200 and codes[0] in page.text and "138****8000" in page.text
    assert MOBILES[0] not in page.text
    page = client.post("/console/appointments/search", data={"query": "9000", "day": DAY,
                                                             "csrf_token": csrf["X-CSRF-Token"]})
    assert 'data-testid="search-results"' in page.text and f'data-testid="check-in-{codes[1]}"' in page.text


def test_csv_export_masks_mobiles_and_neutralises_formulas(client: TestClient, internal_headers, sign_in_as,
                                                           set_clock) -> None:
    codes = make_bookings(client, internal_headers)
    sign_in_as()
    response = client.get("/api/appointments/export.csv", params={"day": DAY})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].endswith(f'-{DAY}.csv"')
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "日期,时段,窗口,事项,姓名,手机号,预约码,状态"
    assert all(code in text for code in codes)
    assert "'=HYPERLINK(1)" in text and not any(mobile in text for mobile in MOBILES)
    # Scripts still export with the internal token.
    scripted = client.get("/api/appointments/export.csv", params={"day": DAY}, cookies={},
                          headers=internal_headers)
    assert scripted.status_code == 200


def test_desk_page_escapes_counts_and_marks_from_the_keyboard_forms(client: TestClient, internal_headers,
                                                                   sign_in_as, set_clock) -> None:
    codes = make_bookings(client, internal_headers)
    csrf = sign_in_as()
    page = client.get("/console/appointments", params={"day": DAY})
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>x</script>" not in page.text and "&lt;script&gt;x&lt;/script&gt;" in page.text
    assert 'aria-current="page"' in page.text and 'href="/console/static/appointments/desk.css"' in page.text
    assert f'data-testid="check-in-{codes[0]}"' in page.text and 'data-testid="window-counts"' in page.text
    assert not any(mobile in page.text for mobile in MOBILES)
    assert " style=" not in page.text and "<style" not in page.text
    marked = client.post(f"/console/appointments/{codes[0]}/check-in", data={"csrf_token": csrf, "day": DAY},
                         follow_redirects=False)
    assert marked.status_code == 303
    assert marked.headers["location"].startswith("/console/appointments?")
    page = client.get(marked.headers["location"])
    assert f"已为预约 {codes[0]} 签到" in page.text
    assert f'data-testid="check-in-{codes[0]}"' not in page.text
    again = client.post(f"/console/appointments/{codes[0]}/no-show", data={"csrf_token": csrf, "day": DAY},
                        follow_redirects=False)
    assert "error=booking_not_active" in again.headers["location"]
    assert "无法再次操作" in client.get(again.headers["location"]).text
