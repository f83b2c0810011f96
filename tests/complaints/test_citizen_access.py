"""Citizen lookups, added information and withdrawal: ownership checked, guesses learn nothing and are rate-limited."""

from fastapi.testclient import TestClient

from tests.complaints.conftest import FrozenClock, file


def lookup(client: TestClient, headers, number: str, digits: str | None, requester: str = "chat-1"):
    return client.post("/internal/complaints/lookup", headers=headers,
                       json={"ticket_number": number, "verification": digits, "requester": requester})


def test_lookup_shows_status_and_every_staff_response(client: TestClient, internal_headers, staff_headers,
                                                      clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    client.post(f"/api/complaints/{number}/first-response", json={"text": "已收到，正在核实"}, headers=staff_headers)
    client.post(f"/api/complaints/{number}/plan", json={"text": "本周内约谈并回复您"}, headers=staff_headers)
    response = lookup(client, internal_headers, number.lower(), "5678")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "plan_given"
    assert [u["text"] for u in body["updates"]] == [None, "已收到，正在核实", "本周内约谈并回复您"]
    assert body["summary"] == f"{number}：已给出处理方案，正在处理。处理方案：本周内约谈并回复您"
    assert "wang.li" not in response.text and "13812345678" not in response.text


def test_the_conversation_that_filed_a_ticket_reads_it_without_the_digits(client: TestClient, internal_headers,
                                                                         clock: FrozenClock) -> None:
    number = file(client, internal_headers, conversation_id="web-filer-1")["number"]
    assert lookup(client, internal_headers, number, None, requester="web-filer-1").status_code == 200
    # Another conversation still needs the four digits, and guessing without them learns nothing.
    assert lookup(client, internal_headers, number, None, requester="web-other-2").status_code == 404
    assert lookup(client, internal_headers, number, "5678", requester="web-other-2").status_code == 200


def test_wrong_digits_and_unknown_numbers_get_the_same_answer(client: TestClient, internal_headers,
                                                              clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    wrong = lookup(client, internal_headers, number, "0000")
    unknown = lookup(client, internal_headers, "TS20261121-0099", "5678")
    missing = lookup(client, internal_headers, number, None)
    assert wrong.status_code == unknown.status_code == missing.status_code == 404
    assert wrong.json() == unknown.json() == missing.json()


def test_strangers_guesses_do_not_lock_the_owner_out(client: TestClient, internal_headers,
                                                     clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    for attempt in range(5):
        assert lookup(client, internal_headers, number, f"{attempt:04d}", requester="stranger").status_code == 404
    # The stranger now waits, even with the right digits; the owner's conversation is not affected.
    locked = lookup(client, internal_headers, number, "5678", requester="stranger")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 3600
    assert lookup(client, internal_headers, number, "5678", requester="owner").status_code == 200
    for attempt in range(5):
        lookup(client, internal_headers, number, f"{attempt:04d}", requester=f"guesser-{attempt}")
    assert lookup(client, internal_headers, number, "5678", requester="owner").status_code == 200
    clock.advance(minutes=61)
    assert lookup(client, internal_headers, number, "5678", requester="stranger").status_code == 200


def test_failed_lookups_are_rate_limited_per_requester(client: TestClient, internal_headers,
                                                       clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    for seq in range(10):
        lookup(client, internal_headers, f"TS20261121-{seq + 10:04d}", "1234", requester="scanner")
    assert lookup(client, internal_headers, number, "5678", requester="scanner").status_code == 429
    assert lookup(client, internal_headers, number, "5678", requester="someone-else").status_code == 200


def test_anonymous_ticket_is_looked_up_with_its_code(client: TestClient, internal_headers, clock: FrozenClock) -> None:
    filed = file(client, internal_headers, mobile=None, anonymous=True)
    assert lookup(client, internal_headers, filed["number"], None).status_code == 404
    assert lookup(client, internal_headers, filed["number"], filed["lookup_code"]).status_code == 200


def test_citizen_adds_information_then_withdraws(client: TestClient, internal_headers, staff_headers,
                                                 clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    verified = {"ticket_number": number, "verification": "5678", "requester": "chat-1"}
    added = client.post("/internal/complaints/info", headers=internal_headers,
                        json={**verified, "text": "<img src=x onerror=alert(1)> 当时是下午三点"})
    assert added.status_code == 200
    assert added.json()["updates"][-1]["text"] == "<img src=x onerror=alert(1)> 当时是下午三点"
    empty = client.post("/internal/complaints/info", headers=internal_headers, json={**verified, "text": "  "})
    assert empty.status_code == 422
    withdrawn = client.post("/internal/complaints/withdraw", headers=internal_headers,
                            json={**verified, "reason": "问题已经解决了"})
    assert withdrawn.json()["status"] == "withdrawn"
    late = client.post("/internal/complaints/info", headers=internal_headers, json={**verified, "text": "还有一点"})
    assert late.status_code == 409
    assert client.get("/api/complaints", headers=staff_headers).json() == []
    events = client.get(f"/api/complaints/{number}", headers=staff_headers).json()["events"]
    assert [e["kind"] for e in events] == ["submitted", "citizen_info", "withdrawn"]


def test_withdraw_needs_the_right_digits(client: TestClient, internal_headers, clock: FrozenClock) -> None:
    number = file(client, internal_headers)["number"]
    response = client.post("/internal/complaints/withdraw", headers=internal_headers,
                           json={"ticket_number": number, "verification": "1111"})
    assert response.status_code == 404
    assert lookup(client, internal_headers, number, "5678").json()["status"] == "submitted"


def test_oversized_fields_are_refused(client: TestClient, internal_headers, clock: FrozenClock) -> None:
    response = client.post("/internal/complaints/lookup", headers=internal_headers,
                           json={"ticket_number": "T" * 500, "verification": "1"})
    assert response.status_code == 422
    response = client.post("/internal/complaints/classify", headers=internal_headers, json={"text": "慢" * 5000})
    assert response.status_code == 422
    malformed = client.post("/internal/complaints/lookup", content=b"{not json",
                            headers={**internal_headers, "Content-Type": "application/json"})
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "malformed_json"


def test_classify_answers_category_and_label(client: TestClient, internal_headers) -> None:
    body = client.post("/internal/complaints/classify", headers=internal_headers,
                       json={"text": "窗口收费不给发票，还多收了钱"}).json()
    assert body["category"] == "fees_integrity"
    assert body["label"] == "违规收费与廉政举报"
    assert "收费" in body["matched"]
