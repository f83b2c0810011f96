"""Staff API and page: the day's bookings per window, check-in, no-show, CSV export, escaping, auth."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.appointments.conftest import booking_body


def make_bookings(client: TestClient, headers: dict) -> list[str]:
    """Books three citizens on 2026-11-19, one with a hostile name."""
    codes = []
    for mobile, name, service in (("13800138000", "张三", "passport"), ("13900139000", "<script>x</script>", "passport"),
                                  ("13700137000", "=HYPERLINK(1)", "id_card")):
        response = client.post("/internal/appointments/bookings", headers=headers,
                               json=booking_body(mobile=mobile, name=name, service_id=service))
        codes.append(response.json()["code"])
    return codes


def test_staff_routes_require_auth(client: TestClient, set_clock) -> None:
    assert client.get("/api/appointments/day").status_code == 401
    assert client.get("/console/appointments").status_code == 401
    assert client.post("/api/appointments/bookings/ABCDEF/check-in").status_code == 401


def test_day_per_window_check_in_and_no_show(client: TestClient, internal_headers, set_clock) -> None:
    codes = make_bookings(client, internal_headers)
    day = client.get("/api/appointments/day", params={"day": "2026-11-19"}, headers=internal_headers).json()
    by_window = {w["window_id"]: [b["code"] for b in w["bookings"]] for w in day["windows"]}
    assert sorted(by_window["G01-G03"] + by_window["G04-G06"]) == sorted(codes[:2])
    # Two citizens in one slot go to the two passport window groups, not the same one.
    assert len(by_window["G01-G03"]) == len(by_window["G04-G06"]) == 1
    assert by_window["A01-A06"] == [codes[2]]
    assert all("****" in b["mobile_masked"] for w in day["windows"] for b in w["bookings"])
    checked = client.post(f"/api/appointments/bookings/{codes[0]}/check-in", headers=internal_headers)
    assert checked.status_code == 200 and checked.json()["status"] == "checked_in"
    twice = client.post(f"/api/appointments/bookings/{codes[0]}/no-show", headers=internal_headers)
    assert twice.status_code == 409
    missed = client.post(f"/api/appointments/bookings/{codes[1]}/no-show", headers=internal_headers)
    assert missed.json()["status"] == "no_show"
    unknown = client.post("/api/appointments/bookings/ZZZZZZ/check-in", headers=internal_headers)
    assert unknown.status_code == 404
    assert client.get("/api/appointments/day", params={"day": "2026-02-30"}, headers=internal_headers).status_code == 422
    assert client.get("/api/appointments/day", params={"office_id": "nowhere"},
                      headers=internal_headers).status_code == 404


def test_csv_export_neutralises_formulas(client: TestClient, internal_headers, set_clock) -> None:
    codes = make_bookings(client, internal_headers)
    response = client.get("/api/appointments/export.csv", params={"day": "2026-11-19"}, headers=internal_headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "日期,时段,窗口,事项,姓名,手机号,预约码,状态"
    assert all(code in text for code in codes)
    assert "'=HYPERLINK(1)" in text and "13800138000" not in text


def test_console_page_escapes_and_marks(client: TestClient, internal_headers, set_clock) -> None:
    codes = make_bookings(client, internal_headers)
    page = client.get("/console/appointments", params={"day": "2026-11-19"}, headers=internal_headers)
    assert page.status_code == 200
    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text
    assert codes[0] in page.text
    marked = client.post(f"/console/appointments/{codes[0]}/check-in", headers=internal_headers,
                         data={"day": "2026-11-19"}, follow_redirects=False)
    assert marked.status_code == 303
    page = client.get("/console/appointments", params={"day": "2026-11-19"}, headers=internal_headers)
    assert "已签到" in page.text
    assert client.post(f"/console/appointments/{codes[1]}/explode", headers=internal_headers).status_code == 400


def test_console_login_session_is_accepted_and_csrf_checked(app: FastAPI, client: TestClient, internal_headers,
                                                             set_clock) -> None:
    codes = make_bookings(client, internal_headers)

    def staff_auth(request):
        if request.cookies.get("console_session") != "valid":
            return None
        request.state.csrf_token = "csrf-123"
        return {"username": "agent1", "role": "agent"}

    app.state.staff_auth = staff_auth
    assert client.get("/api/appointments/day").status_code == 401
    client.cookies.set("console_session", "valid")
    assert client.get("/api/appointments/day", params={"day": "2026-11-19"}).status_code == 200
    no_csrf = client.post(f"/api/appointments/bookings/{codes[0]}/check-in")
    assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf_failed"
    ok = client.post(f"/api/appointments/bookings/{codes[0]}/check-in", headers={"x-csrf-token": "csrf-123"})
    assert ok.status_code == 200
    form = client.post(f"/console/appointments/{codes[1]}/no-show", data={"csrf_token": "csrf-123"},
                       follow_redirects=False)
    assert form.status_code == 303
