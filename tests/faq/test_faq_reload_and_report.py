"""Catalogue edits reach every answer at run time; reload; the masked log and the traffic report."""

import os
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from faq import report
from faq.knowledge import read_sources
from faq.models import FaqQuery
from faq.enums import AnswerStatus
from faq.service import question_row

ANSWER = "/internal/faq/answer"
OLD_FEE = "fee: 普通护照120元/本（国家标准）"
NEW_FEE = "fee: 普通护照135元/本（测试调整）"


def change_passport_fee(faq_dir: Path) -> None:
    """Edits the passport fee in the catalogue copy (and moves its mtime forward)."""
    path = faq_dir / "catalogue.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(OLD_FEE, NEW_FEE), encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))


def test_a_fee_change_reaches_every_answer_that_uses_it_without_retraining(
        faq_client: TestClient, faq_dir: Path, internal_headers: dict[str, str],
        operator_headers: dict[str, str]) -> None:
    uses_fee = [entry.id for entry in read_sources(faq_dir).entries
                if entry.service == "passport" and "{fee}" in entry.answer]
    assert len(uses_fee) >= 2
    before = {e["id"]: e["text"] for e in faq_client.get("/api/faq/entries", params={"service": "passport"}).json()}
    assert all("120元" in before[entry_id] for entry_id in uses_fee)
    change_passport_fee(faq_dir)
    reloaded = faq_client.post("/api/faq/reload", headers=operator_headers)
    assert reloaded.status_code == 200 and reloaded.json()["entries"] >= 75
    after = {e["id"]: e["text"] for e in faq_client.get("/api/faq/entries", params={"service": "passport"}).json()}
    for entry_id in uses_fee:
        assert "135元" in after[entry_id] and "120元" not in after[entry_id]
    reply = faq_client.post(ANSWER, json={"text": "办护照多少钱"}, headers=internal_headers).json()
    assert reply["entry_id"] == "passport_fee" and "135元" in reply["text"]


def test_changed_files_are_picked_up_without_a_reload_call(
        settings, faq_dir: Path, internal_headers: dict[str, str]) -> None:
    from faq.settings import FaqSettings
    from service.app import create_app

    app = create_app(settings.model_copy(update={"faq": FaqSettings(knowledge_dir=faq_dir,
                                                                    reload_check_seconds=0.01)}))
    with TestClient(app) as client:
        assert "120元" in client.post(ANSWER, json={"text": "护照多少钱"}, headers=internal_headers).json()["text"]
        change_passport_fee(faq_dir)
        time.sleep(0.05)
        assert "135元" in client.post(ANSWER, json={"text": "护照多少钱"}, headers=internal_headers).json()["text"]


def test_a_broken_knowledge_base_is_refused_and_the_old_one_keeps_answering(
        faq_client: TestClient, faq_dir: Path, internal_headers: dict[str, str],
        operator_headers: dict[str, str]) -> None:
    passport = faq_dir / "entries" / "passport.yml"
    passport.write_text(passport.read_text(encoding="utf-8").replace("{fee}", "{price}"), encoding="utf-8")
    refused = faq_client.post("/api/faq/reload", headers=operator_headers)
    assert refused.status_code == 422
    body = refused.json()["error"]
    assert body["code"] == "faq_invalid"
    assert any("template variable {price} is missing" in detail for detail in body["details"])
    reply = faq_client.post(ANSWER, json={"text": "办护照多少钱"}, headers=internal_headers).json()
    assert reply["entry_id"] == "passport_fee" and "120元" in reply["text"]


@pytest.mark.parametrize("path,method", [("/api/faq/reload", "post"), ("/api/faq/report", "get")])
def test_operator_routes_need_the_operator_or_internal_token(
        faq_client: TestClient, internal_headers: dict[str, str], operator_headers: dict[str, str],
        path: str, method: str) -> None:
    call = getattr(faq_client, method)
    assert call(path).status_code == 401
    assert call(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert call(path, headers={"Authorization": "operator-token-for-tests-0001"}).status_code == 401
    assert call(path, headers=operator_headers).status_code == 200
    assert call(path, headers=internal_headers).status_code == 200


def test_logged_questions_hide_phone_id_and_card_numbers() -> None:
    def logged(question: str) -> str:
        return question_row(conversation_id=None, question=question,
                            status=AnswerStatus.unknown, entry_id=None, service=None, confidence=0.0).question

    masked = logged("我的手机13812345678，身份证110101199003071234，座机010-88886666，卡号6222020200112233445")
    assert masked == "我的手机138****5678,身份证110101********1234,座机010-****6666,卡号6222***********3445"
    assert logged("身份证号11010119900307123x丢了") == "身份证号110101********123X丢了"
    # Normalised to half-width first, so a full-width number is masked like any other.
    assert logged("电话：１３８１２３４５６７８") == "电话:138****5678"


def test_questions_are_logged_masked_and_reported(
        client: TestClient, app: FastAPI, internal_headers: dict[str, str], db_session: Session) -> None:
    for text in ("办护照要带什么", "护照要带啥材料", "身份证多少钱", "我手机13812345678能办低温补贴吗",
                 "我手机13800005678能办低温补贴吗", "今天天气怎么样"):
        assert client.post(ANSWER, json={"conversation_id": "c9", "text": text},
                           headers=internal_headers).status_code == 200
    client.post(ANSWER, json={"text": "", "entry_id": "passport_fee"}, headers=internal_headers)
    assert app.state.write_behind.pending() == 6  # written after the replies, not inside them
    assert app.state.write_behind.flush_now() == 6
    rows = db_session.scalars(select(FaqQuery)).all()
    db_session.commit()  # ends the read transaction: SQLite lets one writer in at a time
    assert len(rows) == 6  # button picks and empty messages are not questions
    assert not any("13812345678" in row.question or "13800005678" in row.question for row in rows)
    report_body = client.get("/api/faq/report", headers=internal_headers).json()
    assert report_body["total_questions"] == 6
    assert report_body["top_entries"][0] == {"key": "passport_materials", "title": "办护照需要带什么", "count": 2}
    unanswered = {row["key"]: row["count"] for row in report_body["top_unanswered"]}
    # Masked alike (138****5678), the two questions count as one.
    assert unanswered.get("我手机138****5678能办低温补贴吗") == 2
    limited = client.get("/api/faq/report", params={"limit": 1}, headers=internal_headers).json()
    assert len(limited["top_entries"]) == 1
    assert client.get("/api/faq/report", params={"limit": 0}, headers=internal_headers).status_code == 422


def test_report_command_prints_the_lists(
        client: TestClient, app: FastAPI, internal_headers: dict[str, str], database_url: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    client.post(ANSWER, json={"text": "办护照要带什么"}, headers=internal_headers)
    app.state.write_behind.flush_now()  # the service writes its log within half a second; the command reads it
    monkeypatch.setenv("DATABASE_URL", database_url)
    # The command reads the service's settings, which refuse to load without real secrets.
    for name in ("RASA_TOKEN", "INTERNAL_API_TOKEN", "SECRET_KEY"):
        monkeypatch.setenv(name, f"{name.lower()}-of-the-report-test")
    report.get_settings.cache_clear()
    try:
        assert report.main(["--limit", "5"]) == 0
    finally:
        report.get_settings.cache_clear()
    output = capsys.readouterr().out
    assert "questions logged: 1" in output and "passport_materials" in output
