"""FAQ actions against the real service, started on 127.0.0.1 from the service's virtualenv.

Run with the bot environment:
``.venv-bot/bin/python -m pytest tests/bot --noconftest -p no:cacheprovider``.
"""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.faq import ActionAnswerFaq, ActionClarify
from bot.actions.service_client import ServiceClient

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PYTHON = ROOT / ".venv" / "bin" / "python"
TOKEN = "bot-internal-token-for-tests-0001"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real service on a temporary, migrated SQLite database; stopped after the module."""
    if not SERVICE_PYTHON.exists():
        pytest.skip("the service virtualenv (.venv) is not installed")
    database_url = f"sqlite:///{tmp_path_factory.mktemp('faq-service') / 'service.db'}"
    subprocess.run([str(SERVICE_PYTHON), "-m", "service.migrate", database_url], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "INTERNAL_API_TOKEN": TOKEN,
           "RASA_TOKEN": "faq-actions-rasa-token-0001", "SECRET_KEY": "faq-actions-secret-key-0001",
           "FAQ__RELOAD_CHECK_SECONDS": "0"}
    process = subprocess.Popen(
        [str(SERVICE_PYTHON), "-m", "uvicorn", "service.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers (degraded without Rasa, which these tests do not need)
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the service did not start")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def tracker_of(text: str, intent: str = "faq", slots: Optional[Dict[str, Any]] = None,
               entities: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    """A tracker whose latest message is the given text."""
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    events = [{"event": "user", "text": text, "parse_data": message, "timestamp": 1767225600.0}]
    return Tracker("faq-conv-1", slots or {}, message, events, False, None, None, "action_listen")


async def run(action_class: type, url: str, tracker: Tracker) -> tuple[CollectingDispatcher, list]:
    """Runs one FAQ action against the service."""
    dispatcher = CollectingDispatcher()
    events = await action_class(ServiceClient(url, TOKEN, timeout=10)).run(dispatcher, tracker, {})
    return dispatcher, events


async def test_answer_sets_the_current_service_for_booking(service_url: str) -> None:
    dispatcher, events = await run(ActionAnswerFaq, service_url, tracker_of("办护照要带什么"))
    assert len(dispatcher.messages) == 1
    message = dispatcher.messages[0]
    assert "本人居民身份证" in message["text"]
    assert {"title": "预约办理", "payload": '/book_appointment{"service": "passport"}'} in message["buttons"]
    assert events == [SlotSet("faq_miss_count", 0.0), SlotSet("current_service", "passport"),
                      SlotSet("faq_last_entry", "passport_materials")]


async def test_follow_up_uses_the_current_service(service_url: str) -> None:
    tracker = tracker_of("那要多少钱", slots={"current_service": "passport", "faq_miss_count": 0})
    dispatcher, events = await run(ActionAnswerFaq, service_url, tracker)
    assert "120元" in dispatcher.messages[0]["text"]
    assert SlotSet("faq_last_entry", "passport_fee") in events


async def test_candidate_button_picks_the_entry(service_url: str) -> None:
    tracker = tracker_of('/faq_choose{"faq_entry": "pension_transfer"}', intent="faq_choose",
                         entities=[{"entity": "faq_entry", "value": "pension_transfer"}],
                         slots={"faq_miss_count": 1.0})
    dispatcher, events = await run(ActionAnswerFaq, service_url, tracker)
    assert "转移" in dispatcher.messages[0]["text"]
    assert SlotSet("faq_miss_count", 0.0) in events and SlotSet("current_service", "pension") in events


async def test_second_miss_offers_a_person(service_url: str) -> None:
    tracker = tracker_of("附近有什么好吃的", slots={"faq_miss_count": 1.0})
    dispatcher, events = await run(ActionAnswerFaq, service_url, tracker)
    message = dispatcher.messages[0]
    assert "工作人员" in message["text"]
    assert {"title": "转人工", "payload": "/request_human"} in message["buttons"]
    assert events == [SlotSet("faq_miss_count", 2.0)]


async def test_clarify_offers_candidates(service_url: str) -> None:
    dispatcher, events = await run(ActionClarify, service_url, tracker_of("社保", intent="nlu_fallback"))
    buttons = dispatcher.messages[0]["buttons"]
    assert 1 <= len(buttons) <= 3
    assert all(button["payload"].startswith('/faq_choose{"faq_entry": ') for button in buttons)
    assert SlotSet("faq_miss_count", 1.0) in events


async def test_clarify_without_candidates_asks_to_rephrase(service_url: str) -> None:
    dispatcher, events = await run(ActionClarify, service_url, tracker_of("今天天气怎么样", intent="nlu_fallback"))
    assert dispatcher.messages[0]["response"] == "utter_rephrase"
    assert events == [SlotSet("faq_miss_count", 1.0)]


async def test_injection_typed_by_a_citizen_comes_back_harmless(service_url: str) -> None:
    dispatcher, _ = await run(ActionAnswerFaq, service_url, tracker_of("{fee} {{7*7}} <script>alert(1)</script>"))
    text = dispatcher.messages[0]["text"]
    assert "{" not in text and "<script>" not in text and "49" not in text


async def test_service_down_says_so() -> None:
    dispatcher, events = await run(ActionAnswerFaq, f"http://127.0.0.1:{free_port()}", tracker_of("护照多少钱"))
    assert dispatcher.messages[0]["response"] == "utter_service_busy"
    assert events == []


async def test_wrong_token_is_treated_as_unavailable(service_url: str) -> None:
    dispatcher = CollectingDispatcher()
    action = ActionAnswerFaq(ServiceClient(service_url, "wrong-token", timeout=5))
    events = await action.run(dispatcher, tracker_of("护照多少钱"), {})
    assert dispatcher.messages[0]["response"] == "utter_service_busy" and events == []


def test_generated_examples_are_one_intent() -> None:
    generated = ROOT / "bot" / "data" / "faq" / "nlu.yml"
    subprocess.run([str(SERVICE_PYTHON), "-m", "faq.nlu_generator"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    import yaml

    document = yaml.safe_load(generated.read_text(encoding="utf-8"))
    assert [item["intent"] for item in document["nlu"]] == ["faq"]
    assert json.dumps(document, ensure_ascii=False).count("护照") > 20


async def test_the_same_answer_twice_in_a_row_is_introduced_as_such(service_url: str) -> None:
    first, _ = await run(ActionAnswerFaq, service_url, tracker_of("办护照要带什么"))
    answer = first.messages[0]["text"]
    message = {"text": "护照要带啥材料", "intent": {"name": "faq", "confidence": 0.9}, "entities": []}
    events = [{"event": "user", "text": "办护照要带什么"}, {"event": "bot", "text": answer},
              {"event": "user", "text": message["text"], "parse_data": message}]
    tracker = Tracker("faq-conv-2", {}, message, events, False, None, None, "action_listen")
    dispatcher = CollectingDispatcher()
    domain = {"responses": {"utter_faq_same_answer": [{"text": "刚才的答复里已经写到了："}]}}
    await ActionAnswerFaq(ServiceClient(service_url, TOKEN, timeout=10)).run(dispatcher, tracker, domain)
    again = dispatcher.messages[0]["text"]
    assert again != answer and again.startswith("刚才的答复里已经写到了：") and answer in again


async def test_the_same_answer_after_the_forms_question_is_introduced_as_such(service_url: str) -> None:
    # Mid-form the answer is followed by the form's question; the next answer is compared with both.
    first, _ = await run(ActionAnswerFaq, service_url, tracker_of("办护照要带什么"))
    answer = first.messages[0]["text"]
    message = {"text": "护照要带啥材料", "intent": {"name": "faq", "confidence": 0.9}, "entities": []}
    events = [{"event": "user", "text": "办护照要带什么"}, {"event": "bot", "text": answer},
              {"event": "bot", "text": "我们接着预约：请问您想约哪一天？"},
              {"event": "user", "text": message["text"], "parse_data": message}]
    tracker = Tracker("faq-conv-3", {}, message, events, False, None, None, "action_listen")
    dispatcher = CollectingDispatcher()
    domain = {"responses": {"utter_faq_same_answer": [{"text": "刚才的答复里已经写到了："}]}}
    await ActionAnswerFaq(ServiceClient(service_url, TOKEN, timeout=10)).run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"].startswith("刚才的答复里已经写到了：")
