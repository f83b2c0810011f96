"""A fee published from the knowledge base console reaches the citizen through the router and the real trained
model at once: the answer is rendered at run time, so the model is neither retrained nor reloaded."""

import re

import httpx
import pytest

from tests.support import open_live_conversation

pytestmark = [pytest.mark.integration]

PASSWORD = "demo-pass-123"
SERVICE = "/api/knowledge/services/id_card"
NEW_FEE = "首次申领、到期换领23元（示范市试行价）；丢失补领、损坏换领40元；临时身份证10元"


def console_session(base: str, username: str) -> tuple[httpx.Client, dict[str, str]]:
    """An HTTP client signed in to the console, and the CSRF header of its session."""
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/knowledge", response.text
    return client, {"X-CSRF-Token": client.get("/api/staff/me").json()["csrf_token"]}


def ask(base: str, conversation: tuple[str, dict[str, str]], text: str) -> str:
    """A citizen's message through the router; the bot's reply texts."""
    conversation_id, owner = conversation
    response = httpx.post(f"{base}/api/conversations/{conversation_id}/messages", json={"text": text},
                          headers=owner, timeout=60)
    assert response.status_code == 200, response.text
    return " ".join(reply["text"] or "" for reply in response.json()["replies"])


def publish_fee(client: httpx.Client, csrf: dict[str, str], fee: str) -> dict:
    form = client.get(SERVICE).json()
    response = client.put(SERVICE, json={"fee": fee, "version": form["version"], "summary": "收费调整（测试）"},
                          headers=csrf)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_published_fee_is_the_next_answer_without_retraining(live_stack) -> None:
    base = live_stack.config.service_url
    model = live_stack.config.model_path
    model_before = (model.resolve(), model.stat().st_mtime_ns, model.stat().st_size)
    client, csrf = console_session(base, "operator1")
    original = client.get(SERVICE).json()["fields"]["fee"]
    assert original != NEW_FEE
    try:
        before = ask(base, open_live_conversation(base, live_stack.config.integration_api_key), "办身份证要多少钱")
        assert original in before and NEW_FEE not in before, before

        published = publish_fee(client, csrf, NEW_FEE)
        assert published["needs_retraining"] is False and published["revision"]["author"] == "operator1"

        after = ask(base, open_live_conversation(base, live_stack.config.integration_api_key), "办身份证要多少钱")
        assert NEW_FEE in after, after
        assert client.get("/api/knowledge/training").json()["needs_retraining"] is False
    finally:
        if client.get(SERVICE).json()["fields"]["fee"] != original:
            publish_fee(client, csrf, original)
        client.close()
    assert (model.resolve(), model.stat().st_mtime_ns, model.stat().st_size) == model_before
