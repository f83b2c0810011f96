"""Canned replies (标准化用语): seeded defaults, agents read them, supervisors alone write them, plain text."""

from pathlib import Path

import pytest
import yaml

from handoff.models import CannedReplyIn
from staff.enums import StaffRole
from tests.handoff.conftest import sign_in

SEED_FILE = Path(__file__).resolve().parents[2] / "handoff" / "canned_replies.zh.yml"
REPLY = {"title": "核实身份", "text": "为保护您的信息安全，请提供身份证号后四位。", "category": "了解情况"}


@pytest.fixture
def supervisor(client, agent_factory):
    """A signed-in supervisor's CSRF header."""
    agent_factory("boss", role=StaffRole.supervisor)
    return {"X-CSRF-Token": sign_in(client, "boss")}


def test_the_seed_file_is_valid_and_the_migration_loaded_it(client, agent_factory):
    seeds = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    for seed in seeds:
        CannedReplyIn(**seed)
    agent_factory("a1")
    sign_in(client, "a1")
    listed = client.get("/api/handoff/canned")
    assert listed.status_code == 200
    assert [r["title"] for r in listed.json()] == [s["title"] for s in seeds]
    assert [r["text"] for r in listed.json()] == [s["text"].strip() for s in seeds]
    # The defaults cover the usual course of a chat.
    categories = {r["category"] for r in listed.json()}
    assert {"开场", "了解情况", "等待", "转办", "结束"} <= categories


def test_a_supervisor_adds_edits_switches_off_and_deletes(client, agent_factory, supervisor):
    created = client.post("/api/handoff/canned", json=REPLY, headers=supervisor)
    assert created.status_code == 201, created.text
    reply = created.json()
    assert reply["updated_by"] == "坐席boss" and reply["is_active"] is True
    listed = client.get("/api/handoff/canned").json()
    assert listed[-1]["id"] == reply["id"], "a reply without a sort order goes after the others"

    changed = client.put(f"/api/handoff/canned/{reply['id']}", headers=supervisor,
                         json={**REPLY, "text": "请提供身份证号后四位。", "sort_order": 0, "is_active": False})
    assert changed.status_code == 200 and changed.json()["text"] == "请提供身份证号后四位。"
    assert reply["id"] not in [r["id"] for r in client.get("/api/handoff/canned").json()]
    everything = client.get("/api/handoff/canned", params={"include_inactive": "true"}).json()
    assert everything[0]["id"] == reply["id"] and everything[0]["is_active"] is False

    # Agents are offered only the active replies.
    agent_factory("a1")
    sign_in(client, "a1")
    assert reply["id"] not in [r["id"] for r in client.get("/api/handoff/canned").json()]
    boss = {"X-CSRF-Token": sign_in(client, "boss")}
    assert client.delete(f"/api/handoff/canned/{reply['id']}", headers=boss).status_code == 204
    assert client.delete(f"/api/handoff/canned/{reply['id']}", headers=boss).status_code == 404
    assert client.put(f"/api/handoff/canned/{reply['id']}", json=REPLY, headers=boss).status_code == 404


def test_agents_read_but_may_not_write(client, agent_factory, supervisor):
    reply_id = client.post("/api/handoff/canned", json=REPLY, headers=supervisor).json()["id"]
    agent_factory("a1")
    csrf = {"X-CSRF-Token": sign_in(client, "a1")}
    assert client.get("/api/handoff/canned").status_code == 200
    for response in (client.post("/api/handoff/canned", json={**REPLY, "title": "新的"}, headers=csrf),
                     client.put(f"/api/handoff/canned/{reply_id}", json=REPLY, headers=csrf),
                     client.delete(f"/api/handoff/canned/{reply_id}", headers=csrf),
                     client.get("/api/handoff/canned", params={"include_inactive": "true"})):
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden", response.text
    # Operators keep the knowledge base, not the workspace.
    agent_factory("ops", role=StaffRole.operator)
    sign_in(client, "ops")
    assert client.get("/api/handoff/canned").status_code == 403


def test_signed_out_and_forged_requests_are_refused(client, supervisor):
    assert client.post("/api/handoff/canned", json=REPLY).status_code == 403, "the session needs its CSRF token"
    forged = client.post("/api/handoff/canned", json=REPLY, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
    client.cookies.clear()
    assert client.get("/api/handoff/canned").status_code == 401
    assert client.post("/api/handoff/canned", json=REPLY, headers=supervisor).status_code == 401
    assert client.delete("/api/handoff/canned/1", headers=supervisor).status_code == 401


@pytest.mark.parametrize("change", [
    {"title": ""}, {"title": "   "}, {"title": "题" * 41}, {"text": ""}, {"text": " \n\t "}, {"text": "字" * 1001},
    {"category": "类" * 21}, {"sort_order": -1}, {"sort_order": "first"}, {"is_active": "maybe"}, {"colour": "red"},
    {"title": None}, {"text": ["a"]},
])
def test_bad_replies_are_refused_with_422(client, supervisor, change):
    response = client.post("/api/handoff/canned", json={**REPLY, **change}, headers=supervisor)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request", response.text


def test_limits_are_inclusive_and_text_is_kept_as_plain_text(client, supervisor):
    markup = "<b>您好</b><script>alert(1)</script>\n第二行 & {citizen_name}"
    body = {"title": "题" * 40, "text": markup + "字" * (1000 - len(markup)), "category": "类" * 20}
    created = client.post("/api/handoff/canned", json=body, headers=supervisor)
    assert created.status_code == 201, created.text
    assert created.json()["text"] == body["text"] and created.json()["title"] == body["title"]
    spaced = client.post("/api/handoff/canned", json={**REPLY, "title": "  两端 \u0007空格  ", "category": "  "},
                         headers=supervisor).json()
    assert spaced["title"] == "两端 空格" and spaced["category"] is None


def test_titles_are_unique(client, supervisor):
    first = client.post("/api/handoff/canned", json=REPLY, headers=supervisor).json()
    again = client.post("/api/handoff/canned", json={**REPLY, "text": "另一段"}, headers=supervisor)
    assert again.status_code == 409 and again.json()["error"]["code"] == "canned_title_taken"
    other = client.post("/api/handoff/canned", json={**REPLY, "title": "另一个"}, headers=supervisor).json()
    clash = client.put(f"/api/handoff/canned/{other['id']}", json=REPLY, headers=supervisor)
    assert clash.status_code == 409
    # Keeping one's own title is no clash.
    assert client.put(f"/api/handoff/canned/{first['id']}", json=REPLY, headers=supervisor).status_code == 200


@pytest.mark.parametrize("path", ["/api/handoff/canned/0", "/api/handoff/canned/abc", f"/api/handoff/canned/{2**31}"])
def test_bad_ids_are_422(client, supervisor, path):
    assert client.put(path, json=REPLY, headers=supervisor).status_code == 422
    assert client.delete(path, headers=supervisor).status_code == 422


def test_the_editor_page_is_for_supervisors(client, agent_factory):
    assert client.get("/console/canned", follow_redirects=False).status_code == 303
    agent_factory("a1")
    sign_in(client, "a1")
    refused = client.get("/console/canned")
    assert refused.status_code == 403 and 'id="forbidden-message"' in refused.text
    workspace = client.get("/console")
    assert 'id="canned-edit-link"' not in workspace.text and 'id="canned-list"' in workspace.text
    agent_factory("boss", role=StaffRole.supervisor)
    sign_in(client, "boss")
    page = client.get("/console/canned")
    assert page.status_code == 200 and 'id="canned-form"' in page.text
    assert 'aria-current="page"' in page.text and 'id="nav-workspace" aria-current="page"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"] and "<script>" not in page.text
    assert 'id="canned-edit-link"' in client.get("/console").text
