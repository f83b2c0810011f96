"""The knowledge base console: edits published as revisions without retraining, refusals, rollback, roles,
the unanswered list and the retraining job. Every test edits a private copy of the knowledge base."""

import difflib
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from faq.enums import AnswerStatus
from faq.models import FaqQuery, FaqRevision
from service.app import create_app
from service.settings import Settings
from staff.enums import StaffRole
from tests.handoff.conftest import add_agent, sign_in

API = "/api/knowledge"
INTERNAL = {"Authorization": "Bearer internal-token-for-tests-0001"}
FEE_QUESTION = "办身份证要多少钱"


def operator(client: TestClient, db_session: Session, username: str = "op1",
             role: StaffRole = StaffRole.operator) -> dict[str, str]:
    """Signs a member of staff in; returns the CSRF header of the session."""
    add_agent(db_session, username, role=role, online=False)
    return {"X-CSRF-Token": sign_in(client, username)}


def answer(client: TestClient, text: str) -> dict[str, Any]:
    """The FAQ's answer to a citizen's message, as the action server asks for it."""
    response = client.post("/internal/faq/answer", json={"text": text}, headers=INTERNAL)
    assert response.status_code == 200, response.text
    return dict(response.json())


def snapshot(root: Path) -> dict[str, bytes]:
    """The bytes of every knowledge base file."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.yml"))}


def revisions(db_session: Session) -> int:
    """How many revisions are stored (the read's transaction is ended, so the app can write)."""
    db_session.expire_all()
    count = int(db_session.scalar(select(func.count()).select_from(FaqRevision)) or 0)
    db_session.rollback()
    return count


def test_a_published_fee_is_answered_at_once_without_retraining(kb_client: TestClient, db_session: Session,
                                                                faq_dir: Path) -> None:
    headers = operator(kb_client, db_session)
    before = (faq_dir / "catalogue.yml").read_text(encoding="utf-8")
    form = kb_client.get(f"{API}/services/id_card").json()
    assert form["fields"]["fee"].startswith("首次申领、到期换领20元")
    assert "25元" not in answer(kb_client, FEE_QUESTION)["text"]

    new_fee = "首次申领、到期换领25元；丢失补领、损坏换领50元（示范市试行）"
    response = kb_client.put(f"{API}/services/id_card", headers=headers,
                             json={"fee": new_fee, "version": form["version"], "summary": "调整收费"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["revision"]["author"] == "op1" and body["revision"]["summary"] == "调整收费"
    assert body["needs_retraining"] is False and body["revision"]["changes_nlu"] is False

    # The next answer uses the new fee: rendered at run time from the reloaded catalogue.
    reply = answer(kb_client, FEE_QUESTION)
    assert reply["status"] == AnswerStatus.answered and new_fee in reply["text"], reply
    # One line changed; comments, anchors and every other line kept byte for byte.
    after = (faq_dir / "catalogue.yml").read_text(encoding="utf-8")
    changed = [(line[0], line[2:]) for line in difflib.ndiff(before.splitlines(), after.splitlines())
               if line[:1] in "+-"]
    assert changed == [("-", "    fee: 首次申领、到期换领20元；丢失补领、损坏换领40元；临时身份证10元（国家标准）"),
                       ("+", f"    fee: {new_fee}")]

    # An answer template edit does not need retraining either.
    entry = kb_client.get(f"{API}/entries/id_card_fee").json()
    response = kb_client.put(f"{API}/entries/id_card_fee", headers=headers,
                             json={"answer": "{name}的收费：{fee}。如有疑问请拨打{phone}。", "version": entry["version"]})
    assert response.status_code == 200, response.text
    assert response.json()["needs_retraining"] is False
    assert kb_client.get(f"{API}/training").json()["needs_retraining"] is False
    assert "如有疑问请拨打0000-88001001" in answer(kb_client, "身份证工本费多少")["text"]


def test_preview_renders_unsaved_edits_as_the_bot_would_and_writes_nothing(kb_client: TestClient,
                                                                          db_session: Session,
                                                                          faq_dir: Path) -> None:
    headers = operator(kb_client, db_session)
    files = snapshot(faq_dir)
    fee = next(s["fee"] for s in kb_client.get("/api/faq/services").json() if s["id"] == "id_card")
    preview = kb_client.post(f"{API}/entries/id_card_fee/preview", headers=headers,
                             json={"answer": "新模板：{fee}"}).json()
    assert preview["text"] == f"新模板：{fee}" and preview["problems"] == []
    assert [b["title"] for b in preview["buttons"]] == ["预约办理", "在线办理", "转人工"]

    broken = kb_client.post(f"{API}/entries/id_card_fee/preview", headers=headers,
                            json={"answer": "收费：{feee}"}).json()
    assert broken["text"] is None
    assert [(p["code"], p["field"]) for p in broken["problems"]] == [("unknown_placeholder", "answer")]
    assert "{feee}" in broken["problems"][0]["message"]

    service = kb_client.post(f"{API}/services/id_card/preview", headers=headers, json={"fee": "统一30元"}).json()
    texts = {a["entry_id"]: a["text"] for a in service["answers"]}
    assert texts["id_card_fee"] == "居民身份证申领、换领收费标准：统一30元。"
    assert set(texts) == {"id_card_materials", "id_card_fee", "id_card_time", "id_card_validity"}
    assert snapshot(faq_dir) == files and revisions(db_session) == 0


def test_an_edit_that_breaks_the_rules_is_refused_and_nothing_is_written(kb_client: TestClient,
                                                                        db_session: Session,
                                                                        faq_dir: Path) -> None:
    headers = operator(kb_client, db_session)
    files = snapshot(faq_dir)
    refusals = [
        ("entries/id_card_fee", {"answer": "{name}收费：{feee}"}, "unknown_placeholder", "answer"),
        ("entries/id_card_fee", {"answer": "{name}收费：{ fee}"}, "stray_brace", "answer"),
        ("entries/id_card_fee", {"questions": ["身份证多少钱", "换身份证要钱吗"]}, "too_few_questions", "questions"),
        ("entries/id_card_fee", {"title": "两行\n标题"}, "line_break", "title"),
        ("entries/id_card_fee", {"title": "   "}, "required", "title"),
        ("entries/id_card_fee", {"title": "办理身份证收费标准"}, "no_change", None),
        ("services/id_card", {"fee": "20元\n  - id: evil"}, "line_break", "fee"),
        ("services/id_card", {"fee": "收费\u2028另起一行"}, "bad_character", "fee"),
        ("services/id_card", {"materials": []}, "required", "materials"),
        ("services/id_card", {"details": {"evil": "x"}}, "unknown_detail", "details.evil"),
        ("services/hukou", {"hours_note": "新增备注"}, "not_editable", "hours_note"),
    ]
    for path, body, code, field in refusals:
        response = kb_client.put(f"{API}/{path}", headers=headers, json=body)
        assert response.status_code == 422, (body, response.text)
        problems = response.json()["error"]["details"]
        assert (code, field) in [(p["code"], p["field"]) for p in problems], (body, problems)
        assert all(p["message"] for p in problems)
    # A question used by another entry: the faq-check rule on the whole knowledge base.
    questions = kb_client.get(f"{API}/entries/id_card_fee").json()["questions"]
    response = kb_client.put(f"{API}/entries/id_card_fee", headers=headers,
                             json={"questions": [*questions, "办身份证需要什么材料"]})
    assert response.status_code == 422
    assert "duplicate_question" in [p["code"] for p in response.json()["error"]["details"]]
    assert snapshot(faq_dir) == files and revisions(db_session) == 0
    assert "20元" in answer(kb_client, FEE_QUESTION)["text"]


def test_hostile_input_gets_a_clear_refusal_or_stays_plain_text(kb_client: TestClient, db_session: Session,
                                                               faq_dir: Path) -> None:
    headers = operator(kb_client, db_session)
    files = snapshot(faq_dir)
    for path in ("entries/..%2Fcatalogue", "entries/..%2F..%2Fetc%2Fpasswd", "entries/id_card_fee.yml",
                 "entries/ID_CARD_FEE", "entries/nope", "services/..%2Fentries%2Fid_card", "services/nope"):
        assert kb_client.get(f"{API}/{path}").status_code == 404, path
        body = {"title": "x"} if path.startswith("entries") else {"fee": "x"}
        assert kb_client.put(f"{API}/{path}", headers=headers, json=body).status_code == 404, path
        assert kb_client.post(f"{API}/{path}/preview", headers=headers, json={}).status_code == 404, path
    assert kb_client.get("/console/knowledge/entries/..%2Fcatalogue").status_code == 404
    assert kb_client.get("/console/knowledge/services/nope").status_code == 404
    assert kb_client.get(f"{API}/revisions/999").status_code == 404
    assert kb_client.post(f"{API}/revisions/999/rollback", headers=headers, json={}).status_code == 404
    for body in ({"answer": "长" * 2001}, {"title": "长" * 101}, {"questions": ["长" * 101]},
                 {"questions": ["问"] * 301}, {"id": "evil"}, {"service": "hukou"}, {"title": 5}):
        response = kb_client.put(f"{API}/entries/id_card_fee", headers=headers, json=body)
        assert response.status_code == 422, (body, response.text)
    assert kb_client.put(f"{API}/services/id_card", headers=headers, json={"fee": "长" * 301}).status_code == 422
    too_big = kb_client.put(f"{API}/entries/id_card_fee", headers=headers, json={"answer": "x" * 70000})
    assert too_big.status_code == 413
    assert kb_client.put(f"{API}/entries/id_card_fee", headers={**headers, "Content-Type": "application/json"},
                         content=b"{not json").status_code == 422
    assert snapshot(faq_dir) == files and revisions(db_session) == 0

    # Text that looks like YAML structure is stored as the plain string it is.
    injected = "{name}收费标准：{fee}。\n  - id: evil\n    service: id_card\n    answer: \"{phone}\""
    entry = kb_client.get(f"{API}/entries/id_card_fee").json()
    tricky = ["a], evil: [b", "*weekday_hours", "&anchor 收费", "!!python/object:os.system 收费", "# 收费是多少"]
    response = kb_client.put(f"{API}/entries/id_card_fee", headers=headers,
                             json={"answer": injected, "questions": [*entry["questions"], *tricky]})
    assert response.status_code == 200, response.text
    document = yaml.safe_load((faq_dir / "entries" / "id_card.yml").read_text(encoding="utf-8"))
    assert [e["id"] for e in document["entries"]] == ["id_card_materials", "id_card_fee", "id_card_time",
                                                      "id_card_validity"]
    fee_entry = document["entries"][1]
    assert fee_entry["answer"] == injected.strip() and fee_entry["questions"][-5:] == tricky
    assert set(fee_entry) == {"id", "service", "aspect", "title", "questions", "answer"}
    response = kb_client.put(f"{API}/services/id_card", headers=headers, json={"fee": "*weekday_hours"})
    assert response.status_code == 200, response.text
    catalogue = yaml.safe_load((faq_dir / "catalogue.yml").read_text(encoding="utf-8"))
    assert catalogue["services"]["id_card"]["fee"] == "*weekday_hours"


def test_revisions_keep_the_diff_and_author_and_roll_back(kb_client: TestClient, db_session: Session,
                                                          faq_dir: Path) -> None:
    headers = operator(kb_client, db_session)
    original = (faq_dir / "entries" / "id_card.yml").read_bytes()
    entry = kb_client.get(f"{API}/entries/id_card_fee").json()
    first = kb_client.put(f"{API}/entries/id_card_fee", headers=headers,
                          json={"title": "身份证收费标准", "answer": "{name}：{fee}", "version": entry["version"]})
    assert first.status_code == 200, first.text
    first_id = first.json()["revision"]["id"]
    # The editor's version is now stale: a second publication from it would overwrite this one.
    stale = kb_client.put(f"{API}/entries/id_card_fee", headers=headers,
                          json={"title": "别的标题", "version": entry["version"]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "faq_changed"

    detail = kb_client.get(f"{API}/revisions/{first_id}").json()
    assert detail["author"] == "op1" and detail["target"] == "entry:id_card_fee"
    assert detail["path"] == "entries/id_card.yml" and detail["can_roll_back"] is True
    assert "-    title: 办理身份证收费标准\n" in detail["diff"] and "+    title: 身份证收费标准\n" in detail["diff"]
    assert '+    answer: "{name}：{fee}"\n' in detail["diff"]
    assert answer(kb_client, FEE_QUESTION)["text"].startswith("居民身份证申领、换领：首次申领")

    second = kb_client.put(f"{API}/entries/id_card_fee", headers=headers, json={"title": "身份证费用"})
    second_id = second.json()["revision"]["id"]
    # Only the newest change of a file can be rolled back: the file no longer holds the first one's text.
    conflict = kb_client.post(f"{API}/revisions/{first_id}/rollback", headers=headers, json={})
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "faq_changed_since"
    for revision_id in (second_id, first_id):
        back = kb_client.post(f"{API}/revisions/{revision_id}/rollback", headers=headers, json={})
        assert back.status_code == 200, back.text
        assert back.json()["revision"]["rolled_back_from"] == revision_id
    assert (faq_dir / "entries" / "id_card.yml").read_bytes() == original
    assert "收费标准：首次申领" in answer(kb_client, FEE_QUESTION)["text"]
    history = kb_client.get(f"{API}/revisions", params={"target": "entry:id_card_fee"}).json()
    assert [r["id"] for r in history] == [second_id + 2, second_id + 1, second_id, first_id]
    assert [r["can_roll_back"] for r in history] == [True, False, False, False]
    assert history[0]["summary"] == f"回滚第 {first_id} 版"


def test_only_the_knowledge_roles_use_the_pages_and_apis(kb_client: TestClient, db_session: Session,
                                                         faq_dir: Path) -> None:
    files = snapshot(faq_dir)
    reads = [f"{API}/entries/id_card_fee", f"{API}/services/id_card", f"{API}/revisions", f"{API}/revisions/1",
             f"{API}/open-questions", f"{API}/training"]
    writes = [("PUT", f"{API}/entries/id_card_fee", {"title": "x"}),
              ("POST", f"{API}/entries/id_card_fee/preview", {}),
              ("POST", f"{API}/entries/id_card_fee/questions", {"question": "身份证要花钱吗请问"}),
              ("PUT", f"{API}/services/id_card", {"fee": "1元"}),
              ("POST", f"{API}/services/id_card/preview", {}),
              ("POST", f"{API}/revisions/1/rollback", {}),
              ("POST", f"{API}/training", None)]
    pages = ["/console/knowledge", "/console/knowledge/entries/id_card_fee", "/console/knowledge/services/id_card"]

    for url in reads:
        assert kb_client.get(url).status_code == 401, url
    for method, url, body in writes:
        assert kb_client.request(method, url, json=body).status_code == 401, url
    for url in pages:
        response = kb_client.get(url, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/console/login", url

    headers = operator(kb_client, db_session, "agent7", StaffRole.agent)
    for url in reads:
        response = kb_client.get(url)
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden", url
    for method, url, body in writes:
        assert kb_client.request(method, url, json=body, headers=headers).status_code == 403, url
    for url in pages:
        response = kb_client.get(url)
        assert response.status_code == 403 and "无权访问" in response.text, url
    assert snapshot(faq_dir) == files and revisions(db_session) == 0

    operator(kb_client, db_session, "super7", StaffRole.supervisor)
    for url in pages:
        response = kb_client.get(url)
        assert response.status_code == 200 and "script-src 'self'" in response.headers["content-security-policy"]
    operator(kb_client, db_session, "op7")
    page = kb_client.get("/console/knowledge")
    assert page.status_code == 200 and 'aria-current="page"' in page.text and "办理身份证收费标准" in page.text


def test_a_state_change_without_the_csrf_token_is_refused(kb_client: TestClient, db_session: Session,
                                                          faq_dir: Path) -> None:
    headers = operator(kb_client, db_session)
    files = snapshot(faq_dir)
    for sent in ({}, {"X-CSRF-Token": "wrong-token"}):
        response = kb_client.put(f"{API}/services/id_card", headers=sent, json={"fee": "1元"})
        assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
        assert kb_client.post(f"{API}/training", headers=sent).status_code == 403
        assert kb_client.post(f"{API}/entries/id_card_fee/questions", headers=sent,
                              json={"question": "身份证要花钱吗请问"}).status_code == 403
    assert snapshot(faq_dir) == files and revisions(db_session) == 0
    assert kb_client.app.state.faq_retrainer.current() is None
    assert kb_client.put(f"{API}/services/id_card", headers=headers, json={"fee": "1元"}).status_code == 200


def log_question(db_session: Session, question: str, status: AnswerStatus, times: int) -> None:
    """Questions as the FAQ logs them after a reply."""
    for _ in range(times):
        db_session.add(FaqQuery(question=question, status=status, confidence=0.2))
    db_session.commit()


def test_an_unanswered_question_becomes_a_variant_and_marks_the_model_stale(kb_client: TestClient,
                                                                           db_session: Session) -> None:
    headers = operator(kb_client, db_session)
    question = "二代证换新的工本费咋收"
    log_question(db_session, question, AnswerStatus.unknown, 3)
    log_question(db_session, question, AnswerStatus.clarify, 1)
    log_question(db_session, "身份证多少钱", AnswerStatus.clarify, 5)  # already a variant: not listed
    listed = kb_client.get(f"{API}/open-questions").json()
    assert [(q["question"], q["unanswered"], q["clarified"]) for q in listed] == [(question, 3, 1)]
    assert listed[0]["last_asked"].endswith("Z") or "+00:00" in listed[0]["last_asked"]
    assert all(s["entry_id"] and s["title"] for s in listed[0]["suggestions"])
    assert kb_client.get(f"{API}/training").json()["needs_retraining"] is False

    response = kb_client.post(f"{API}/entries/id_card_fee/questions", headers=headers, json={"question": question})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["needs_retraining"] is True and body["revision"]["changes_nlu"] is True
    assert body["revision"]["summary"] == f"新增问法：{question}"
    # The matcher answers with it at once; the NLU model is behind until retrained.
    reply = answer(kb_client, question)
    assert reply["status"] == AnswerStatus.answered and reply["entry_id"] == "id_card_fee", reply
    assert kb_client.get(f"{API}/open-questions").json() == []
    assert kb_client.get(f"{API}/training").json()["needs_retraining"] is True
    again = kb_client.post(f"{API}/entries/id_card_fee/questions", headers=headers, json={"question": question})
    assert again.status_code == 422 and again.json()["error"]["details"][0]["code"] == "duplicate_question"
    page = kb_client.get("/console/knowledge")
    assert 'data-testid="training-state"' in page.text and 'data-testid="open-questions"' in page.text


def wait_for_job(client: TestClient, timeout: float = 30.0) -> dict[str, Any]:
    """Polls the training state until the job is no longer running."""
    deadline = time.monotonic() + timeout
    state = client.get(f"{API}/training").json()
    while state["job"]["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        state = client.get(f"{API}/training").json()
    return dict(state)


def test_the_retraining_job_runs_one_real_command_at_a_time(kb_client: TestClient, db_session: Session,
                                                            kb_settings: Settings) -> None:
    headers = operator(kb_client, db_session)
    assert kb_client.get(f"{API}/training").json()["job"]["status"] == "idle"
    kb_client.post(f"{API}/entries/id_card_fee/questions", headers=headers, json={"question": "办个二代证要交多少钱呢"})
    assert kb_client.get(f"{API}/training").json()["needs_retraining"] is True

    started = kb_client.post(f"{API}/training", headers=headers)
    assert started.status_code == 200, started.text
    assert started.json()["job"]["status"] == "running" and started.json()["job"]["started_by"] == "op1"
    second = kb_client.post(f"{API}/training", headers=headers)
    assert second.status_code == 409 and second.json()["error"]["code"] == "retrain_running"

    state = wait_for_job(kb_client)
    job = state["job"]
    assert job["status"] == "succeeded" and job["exit_code"] == 0 and job["log_tail"] == ["step one", "done"]
    assert job["finished_at"] and job["started_at"] <= job["finished_at"]
    assert state["needs_retraining"] is False

    # A restarted service shows the stored run.
    with TestClient(create_app(kb_settings)) as restarted:
        restarted.cookies.update(kb_client.cookies)
        stored = restarted.get(f"{API}/training").json()
    assert stored["job"]["status"] == "succeeded" and stored["job"]["log_tail"] == ["step one", "done"]
    assert stored["needs_retraining"] is False


@pytest.mark.parametrize("retrain_command", [[sys.executable, "-c", "import sys; print('no data'); sys.exit(3)"]])
def test_a_failing_retraining_command_is_reported_failed(kb_client: TestClient, db_session: Session) -> None:
    headers = operator(kb_client, db_session)
    assert kb_client.post(f"{API}/training", headers=headers).status_code == 200
    job = wait_for_job(kb_client)["job"]
    assert job["status"] == "failed" and job["exit_code"] == 3 and job["log_tail"] == ["no data"]
    assert job["timed_out"] is False


@pytest.mark.parametrize(("retrain_command", "retrain_timeout"),
                         [([sys.executable, "-c", "import time; print('slow', flush=True); time.sleep(30)"], 1.0)])
def test_a_retraining_run_past_its_time_is_ended(kb_client: TestClient, db_session: Session) -> None:
    headers = operator(kb_client, db_session)
    kb_client.post(f"{API}/training", headers=headers)
    job = wait_for_job(kb_client, timeout=15)["job"]
    assert job["status"] == "failed" and job["timed_out"] is True and job["log_tail"] == ["slow"]
    started = kb_client.post(f"{API}/training", headers=headers)
    assert started.status_code == 200 and started.json()["job"]["status"] == "running"


def test_a_service_name_or_alias_change_needs_retraining(kb_client: TestClient, db_session: Session) -> None:
    headers = operator(kb_client, db_session)
    aliases = kb_client.get(f"{API}/services/passport").json()["aliases"]
    response = kb_client.put(f"{API}/services/passport", headers=headers, json={"aliases": [*aliases, "因私护照"]})
    assert response.status_code == 200, response.text
    # The homophone reader's vocabulary (names and aliases) is learnt by the NLU model.
    assert response.json()["needs_retraining"] is True and response.json()["revision"]["changes_nlu"] is True
    back = kb_client.post(f"{API}/revisions/{response.json()['revision']['id']}/rollback", headers=headers, json={})
    assert back.status_code == 200 and back.json()["needs_retraining"] is False
