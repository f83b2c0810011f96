"""The FAQ API: answers, context carry-over, clarifying questions, offer of a person, auth, bad input."""

import json

import pytest
from fastapi.testclient import TestClient

ANSWER = "/internal/faq/answer"


def ask(client: TestClient, headers: dict[str, str], text: str, **extra: object) -> dict:
    """Posts one message and returns the reply (asserting HTTP 200)."""
    response = client.post(ANSWER, json={"conversation_id": "c1", "text": text, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_answers_a_question_from_the_catalogue(client: TestClient, internal_headers: dict[str, str]) -> None:
    reply = ask(client, internal_headers, "办护照要带什么")
    assert reply["status"] == "answered"
    assert reply["entry_id"] == "passport_materials" and reply["service"] == "passport"
    assert "本人居民身份证" in reply["text"] and "G01-G06号窗口" in reply["text"]
    payloads = [button["payload"] for button in reply["buttons"]]
    assert payloads[0] == '/book_appointment{"service": "passport"}'
    assert "/request_human" in payloads
    online = next(b for b in reply["buttons"] if b["title"] == "在线办理")
    assert online["url"].startswith("https://")
    assert reply["miss_count"] == 0


def test_context_carry_over_answers_the_fee_of_the_service_talked_about(
        client: TestClient, internal_headers: dict[str, str]) -> None:
    first = ask(client, internal_headers, "办护照要带什么")
    follow_up = ask(client, internal_headers, "那要多少钱", current_service=first["service"])
    assert follow_up["entry_id"] == "passport_fee"
    assert "120元" in follow_up["text"]
    # A service named in the message wins over the context.
    named = ask(client, internal_headers, "身份证多少钱", current_service="passport")
    assert named["entry_id"] == "id_card_fee"


def test_traditional_characters_and_colloquial_short_questions(
        client: TestClient, internal_headers: dict[str, str]) -> None:
    assert ask(client, internal_headers, "身份證遺失怎麼辦")["entry_id"] == "id_card_loss_process"
    assert ask(client, internal_headers, "身份证丢了")["entry_id"] == "id_card_loss_process"
    assert ask(client, internal_headers, "公积金提取要啥材料")["entry_id"] == "housing_fund_withdrawal_materials"


@pytest.mark.parametrize(("text", "entry_id"), [
    # The usability report: each went to another entry, or to a clarification without it.
    ("房产证丢了怎么补", "real_estate_replace"),
    ("转学手续怎么办", "school_enrollment_transfer"),
    ("60岁以上有什么优待", "elderly_benefits_transport"),
    ("老年卡丢了怎么补", "elderly_benefits_card"),
    ("门诊慢特病怎么申请", "medical_insurance_chronic"),
])
def test_one_entry_clearly_meant_is_answered(client: TestClient, internal_headers: dict[str, str],
                                             text: str, entry_id: str) -> None:
    reply = ask(client, internal_headers, text)
    assert (reply["status"], reply["entry_id"]) == ("answered", entry_id)


def test_a_mistyped_service_name_and_a_qualifier(client: TestClient, internal_headers: dict[str, str]) -> None:
    # 社宝卡 (a pinyin keyboard's homophone) is 社保卡; 外地户口 is who asks, not the 户口 service.
    assert ask(client, internal_headers, "社宝卡丢了怎么补办")["entry_id"] == "social_security_card_loss"
    assert ask(client, internal_headers, "外地户口能在这里办护照吗")["service"] == "passport"


def test_phone_numbers_in_a_question_do_not_count_as_words(
        client: TestClient, internal_headers: dict[str, str]) -> None:
    plain = ask(client, internal_headers, "我手机能办低温补贴吗")
    for number in ("13812345678", "13800008000"):
        reply = ask(client, internal_headers, f"我手机{number}能办低温补贴吗")
        assert (reply["status"], reply["confidence"]) == (plain["status"], plain["confidence"])


def test_low_confidence_asks_with_three_candidates(client: TestClient, internal_headers: dict[str, str]) -> None:
    reply = ask(client, internal_headers, "社保")
    assert reply["status"] == "clarify"
    assert 1 <= len(reply["candidates"]) <= 3
    for candidate, button in zip(reply["candidates"], reply["buttons"], strict=False):
        assert button["payload"] == "/faq_choose" + json.dumps({"faq_entry": candidate["entry_id"]})
        assert button["title"] == candidate["title"]
    assert reply["miss_count"] == 1 and not reply["offer_human"]


def test_picking_a_candidate_answers_that_entry(client: TestClient, internal_headers: dict[str, str]) -> None:
    reply = ask(client, internal_headers, "/faq_choose", entry_id="pension_transfer", miss_count=1)
    assert reply["status"] == "answered" and reply["entry_id"] == "pension_transfer"
    assert reply["miss_count"] == 0


def test_online_button_gives_the_online_address(client: TestClient, internal_headers: dict[str, str]) -> None:
    reply = ask(client, internal_headers, "", entry_id="online.passport")
    assert reply["status"] == "answered"
    assert "https://zwfw.example.gov.cn/services/passport" in reply["text"]


def test_two_misses_in_a_row_offer_a_person(client: TestClient, internal_headers: dict[str, str]) -> None:
    first = ask(client, internal_headers, "今天天气怎么样")
    assert first["status"] == "unknown" and first["miss_count"] == 1 and not first["offer_human"]
    second = ask(client, internal_headers, "附近有什么好吃的", miss_count=first["miss_count"])
    assert second["miss_count"] == 2 and second["offer_human"]
    assert "工作人员" in second["text"] and "12345" in second["text"]
    assert {"title": "转人工", "payload": "/request_human"} in second["buttons"]
    answered = ask(client, internal_headers, "办护照要带什么", miss_count=2)
    assert answered["miss_count"] == 0 and not answered["offer_human"]


@pytest.mark.parametrize("text", [
    "", "   ", "😀😀😀", "👍", "hello, how do I get a passport?", "https://example.com/a?b={fee}",
    "{fee}", "{{ 7*7 }}", "{{config}}", "{materials}{0.__class__}", "<script>alert('x')</script>",
    "'; DROP TABLE faq_query; --", "%s%s%s%n", "\u0000\u200b", "身份证" * 1500,
])
def test_bad_input_gets_a_sensible_reply_and_no_template_leaks(
        client: TestClient, internal_headers: dict[str, str], text: str) -> None:
    reply = ask(client, internal_headers, text)
    assert reply["status"] in {"answered", "clarify", "unknown"}
    assert reply["text"].strip()
    for leak in ("{", "}", "<script>", "DROP TABLE", "7*7", "__class__", "%n"):
        assert leak not in reply["text"]


def test_over_long_text_is_answered_from_its_beginning(client: TestClient, internal_headers: dict[str, str]) -> None:
    reply = ask(client, internal_headers, "办护照要带什么" + "。" * 900)
    assert reply["entry_id"] == "passport_materials"
    assert reply["text"].startswith("（您的留言较长")


def test_malformed_requests_get_json_errors(client: TestClient, internal_headers: dict[str, str]) -> None:
    too_long = client.post(ANSWER, json={"text": "x" * 5001}, headers=internal_headers)
    assert too_long.status_code == 422 and too_long.json()["error"]["code"]
    negative = client.post(ANSWER, json={"text": "护照", "miss_count": -1}, headers=internal_headers)
    assert negative.status_code == 422
    wrong_type = client.post(ANSWER, json={"text": ["护照"]}, headers=internal_headers)
    assert wrong_type.status_code == 422
    not_json = client.post(ANSWER, content=b"{not json", headers={**internal_headers,
                                                                  "Content-Type": "application/json"})
    assert not_json.status_code == 422 and "error" in not_json.json()
    unknown_entry = ask(client, internal_headers, "", entry_id="no_such_entry")
    assert unknown_entry["status"] == "unknown"


def test_internal_answer_requires_the_internal_token(client: TestClient) -> None:
    assert client.post(ANSWER, json={"text": "护照"}).status_code == 401
    wrong = client.post(ANSWER, json={"text": "护照"}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"


def test_entries_and_services_for_the_agent_console(client: TestClient) -> None:
    entries = client.get("/api/faq/entries").json()
    assert len(entries) >= 75
    fee = next(entry for entry in entries if entry["id"] == "passport_fee")
    assert "120元" in fee["text"] and "{" not in fee["text"]
    only_passport = client.get("/api/faq/entries", params={"service": "passport"}).json()
    assert only_passport and {entry["service"] for entry in only_passport} == {"passport"}
    assert client.get("/api/faq/entries/passport_fee").json()["id"] == "passport_fee"
    missing = client.get("/api/faq/entries/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    services = client.get("/api/faq/services").json()
    assert len(services) == 27 and {"id", "fee", "bookable", "online_url"} <= set(services[0])
