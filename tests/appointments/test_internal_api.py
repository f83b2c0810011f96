"""The bot's internal API: availability, booking, idempotency, lookup, cancel, reschedule and bad input."""

from datetime import datetime

from fastapi.testclient import TestClient

from tests.appointments.conftest import booking_body

BASE = "/internal/appointments"


def book(client: TestClient, headers: dict, **overrides: object):
    """POSTs a booking."""
    return client.post(f"{BASE}/bookings", json=booking_body(**overrides), headers=headers)


def test_requires_the_internal_token(client: TestClient, set_clock) -> None:
    response = client.post(f"{BASE}/bookings", json=booking_body())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_happy_booking_returns_code_materials_and_masked_mobile(client: TestClient, internal_headers, set_clock) -> None:
    response = book(client, internal_headers, id_number="11010519491231002X")
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["code"]) == 6 and body["status"] == "booked"
    assert body["service_name"] == "普通护照"
    assert body["materials"] == ["本人居民身份证", "现场免费拍照"]
    assert body["mobile_masked"] == "138****8000"
    assert body["id_number_masked"] == "110105********002X"
    assert body["window_id"] in {"G01-G03", "G04-G06"}
    assert body["label"] == "11月19日（周四）10:00-10:30"


def test_same_idempotency_key_books_once(client: TestClient, internal_headers, set_clock) -> None:
    first = book(client, internal_headers, idempotency_key="conv-1-confirm-1")
    second = book(client, internal_headers, idempotency_key="conv-1-confirm-1")
    assert first.status_code == second.status_code == 201
    assert first.json()["code"] == second.json()["code"]
    answer = client.post(f"{BASE}/availability", json={"service_id": "passport", "day": "2026-11-19",
                                                      "start": "10:00"}, headers=internal_headers).json()
    remaining = next(slot["remaining"] for slot in answer["slots"] if slot["start"] == "10:00")
    assert remaining == 4


def test_one_active_booking_per_mobile_and_service(client: TestClient, internal_headers, set_clock) -> None:
    first = book(client, internal_headers)
    second = book(client, internal_headers, start="11:00")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "active_booking_exists"
    assert second.json()["error"]["details"]["code"] == first.json()["code"]
    assert book(client, internal_headers, service_id="id_card").status_code == 201


def test_full_slot_offers_three_nearest(client: TestClient, internal_headers, set_clock) -> None:
    for index in range(5):
        assert book(client, internal_headers, mobile=f"1390000000{index}").status_code == 201
    refused = book(client, internal_headers, mobile="13900000009")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "full"
    starts = [(s["day"], s["start"]) for s in refused.json()["error"]["details"]["alternatives"]]
    assert starts == [("2026-11-19", "09:00"), ("2026-11-19", "09:30"), ("2026-11-19", "10:30")]
    answer = client.post(f"{BASE}/availability", json={"service_id": "passport", "day": "2026-11-19",
                                                      "start": "10:00"}, headers=internal_headers).json()
    assert answer["available"] is False and answer["reason_code"] == "full"
    assert len(answer["alternatives"]) == 3


def test_holiday_is_closed_with_the_reason(client: TestClient, internal_headers, set_clock) -> None:
    set_clock(datetime(2026, 9, 28, 10, 0))
    answer = client.post(f"{BASE}/availability", json={"service_id": "passport", "day": "2026-10-02",
                                                      "part": "morning"}, headers=internal_headers).json()
    assert answer["available"] is False and answer["reason_code"] == "holiday"
    assert "国庆节" in answer["reason"]
    # The nearest free slots are the last afternoon before the National Day week.
    assert [slot["day"] for slot in answer["alternatives"]] == ["2026-09-30", "2026-09-30", "2026-09-30"]
    refused = book(client, internal_headers, day="2026-10-05")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "holiday"
    assert book(client, internal_headers, day="2026-10-10").status_code == 201


def test_unpublished_year_is_bookable_on_statutory_rules(client: TestClient, internal_headers, set_clock) -> None:
    # 2027's schedule is not published (chinesecalendar 1.11.0): working days open, 元旦 closed.
    set_clock(datetime(2026, 12, 28, 10, 0))
    assert book(client, internal_headers, day="2027-01-04").status_code == 201
    refused = book(client, internal_headers, day="2027-01-01", mobile="13900000001")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "holiday"


def test_weekend_past_outside_hours_and_horizon(client: TestClient, internal_headers, set_clock) -> None:
    cases = {"weekend": {"day": "2026-11-21"}, "past": {"day": "2026-11-17"},
             "too_soon": {"day": "2026-11-18", "start": "10:30"}, "outside_hours": {"start": "12:30"},
             "not_a_slot": {"start": "10:10"}, "beyond_horizon": {"day": "2026-12-10"}}
    for code, change in cases.items():
        response = book(client, internal_headers, **change)
        assert response.status_code == 400, code
        assert response.json()["error"]["code"] == code


def test_bad_input_answers_clear_json_errors(client: TestClient, internal_headers, set_clock) -> None:
    malformed = client.post(f"{BASE}/bookings", content=b"{not json", headers={**internal_headers,
                                                                                "content-type": "application/json"})
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "malformed_json"
    assert book(client, internal_headers, day="2026-13-45").status_code == 422
    assert book(client, internal_headers, start="25:00").status_code == 422
    assert book(client, internal_headers, name="张" * 200).status_code == 422
    bad_mobile = book(client, internal_headers, mobile="12345678901")
    assert bad_mobile.status_code == 400 and bad_mobile.json()["error"]["code"] == "mobile_prefix"
    bad_id = book(client, internal_headers, id_number="110105194912310021")
    assert bad_id.status_code == 400 and bad_id.json()["error"]["code"] == "id_number_checksum"
    unknown = book(client, internal_headers, service_id="school_enrollment")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "service_not_bookable"
    oversized = client.post(f"{BASE}/when", json={"text": "明" * 100_000}, headers=internal_headers)
    assert oversized.status_code == 413


def test_lookup_cancel_and_reschedule_by_code(client: TestClient, internal_headers, set_clock) -> None:
    code = book(client, internal_headers).json()["code"]
    wrong = client.post(f"{BASE}/bookings/lookup", json={"code": code, "mobile_last4": "1234"},
                        headers=internal_headers)
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "booking_not_found"
    for bad in ({"code": "00000O", "mobile_last4": "8000"}, {"code": code, "mobile_last4": "80"},
                {"code": "x" * 40, "mobile_last4": "8000"}):
        assert client.post(f"{BASE}/bookings/lookup", json=bad, headers=internal_headers).status_code in {404, 422}
    found = client.post(f"{BASE}/bookings/lookup", json={"code": code.lower(), "mobile_last4": "8000"},
                        headers=internal_headers)
    assert found.status_code == 200 and found.json()["code"] == code
    moved = client.post(f"{BASE}/bookings/reschedule", json={"code": code, "mobile_last4": "8000",
                                                            "day": "2026-11-20", "start": "14:00"},
                        headers=internal_headers)
    assert moved.status_code == 200 and moved.json()["code"] == code
    assert moved.json()["day"] == "2026-11-20" and moved.json()["start"] == "14:00"
    slots = client.post(f"{BASE}/availability", json={"service_id": "passport", "day": "2026-11-19"},
                        headers=internal_headers).json()["slots"]
    assert next(s["remaining"] for s in slots if s["start"] == "10:00") == 5
    cancelled = client.post(f"{BASE}/bookings/cancel", json={"code": code, "mobile_last4": "8000"},
                            headers=internal_headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"{BASE}/bookings/cancel", json={"code": code, "mobile_last4": "8000"},
                        headers=internal_headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "booking_not_active"
    slots = client.post(f"{BASE}/availability", json={"service_id": "passport", "day": "2026-11-20"},
                        headers=internal_headers).json()["slots"]
    assert next(s["remaining"] for s in slots if s["start"] == "14:00") == 5
    # Cancelling freed the one-active-booking rule too.
    assert book(client, internal_headers).status_code == 201


def test_reschedule_into_a_full_slot_keeps_the_booking(client: TestClient, internal_headers, set_clock) -> None:
    for index in range(5):
        book(client, internal_headers, mobile=f"1390000000{index}", start="15:00")
    code = book(client, internal_headers).json()["code"]
    refused = client.post(f"{BASE}/bookings/reschedule", json={"code": code, "mobile_last4": "8000",
                                                              "day": "2026-11-19", "start": "15:00"},
                          headers=internal_headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "full"
    kept = client.post(f"{BASE}/bookings/lookup", json={"code": code, "mobile_last4": "8000"},
                       headers=internal_headers).json()
    assert kept["start"] == "10:00" and kept["status"] == "booked"


def test_when_contact_and_service_helpers(client: TestClient, internal_headers, set_clock) -> None:
    when = client.post(f"{BASE}/when", json={"text": "下周三上午十点"}, headers=internal_headers).json()
    assert when == {"day": "2026-11-25", "day_given": True, "start": "10:00", "part": "morning", "problem": None, "message": None}
    past = client.post(f"{BASE}/when", json={"text": "10月8号"}, headers=internal_headers).json()
    assert past["problem"] == "past" and past["message"]
    contact = client.post(f"{BASE}/contact/check", json={"mobile": "1380013800"}, headers=internal_headers).json()
    assert contact["mobile_problem"] == "mobile_length" and "11位" in contact["mobile_message"]
    resolved = client.post(f"{BASE}/services/resolve", json={"text": "护照"}, headers=internal_headers).json()
    assert resolved == {"service_id": "passport", "service_name": "普通护照"}
    unknown = client.post(f"{BASE}/services/resolve", json={"text": "火星签证"}, headers=internal_headers).json()
    assert unknown["service_id"] is None


def test_time_alone_means_today_and_services_are_found_inside_sentences(client: TestClient, internal_headers,
                                                                        set_clock) -> None:
    later = client.post(f"{BASE}/when", json={"text": "下午3点半"}, headers=internal_headers).json()
    assert later["day"] == "2026-11-18" and later["start"] == "15:30" and later["problem"] is None
    assert later["day_given"] is False
    earlier = client.post(f"{BASE}/when", json={"text": "早上9点"}, headers=internal_headers).json()
    assert earlier["problem"] == "past"
    resolved = client.post(f"{BASE}/services/resolve", json={"text": "我想约个时间办护照"},
                           headers=internal_headers).json()
    assert resolved["service_id"] == "passport"


def test_understand_moves_from_the_chosen_time_and_refuses_a_malformed_one(client: TestClient, internal_headers,
                                                                          set_clock) -> None:
    moved = client.post(f"{BASE}/understand", json={"text": "晚半个小时吧", "asked": "confirmed",
                                                    "day": "2026-11-19", "start": "11:00"}, headers=internal_headers)
    assert moved.status_code == 200 and (moved.json()["day"], moved.json()["start"]) == ("2026-11-19", "11:30")
    for start in ("25:00", "11:0", "x" * 2000):
        bad = client.post(f"{BASE}/understand", json={"text": "晚半个小时吧", "asked": "confirmed",
                                                      "day": "2026-11-19", "start": start}, headers=internal_headers)
        assert bad.status_code == 422, start
    stranger = client.post(f"{BASE}/understand", json={"text": "晚半个小时吧"})
    assert stranger.status_code in (401, 403)
