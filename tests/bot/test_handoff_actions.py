"""Handoff actions against a real HTTP server on 127.0.0.1 standing in for the service."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import ActionHandoff, ActionStoreRating
from bot.actions.service_client import ServiceClient


class RecordingService:
    """A tiny HTTP service that records POSTs and answers like the handoff API."""

    def __init__(self, status: int = 200, answer: Any = None) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.status = status
        self.answer = answer
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                recorder.requests.append({"path": self.path, "body": body,
                                          "authorization": self.headers.get("Authorization")})
                payload = json.dumps(recorder.answer).encode()
                self.send_response(recorder.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RecordingService":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


TICKET = {"ticket_id": 17, "status": "waiting", "position": 2, "estimated_wait_minutes": 6, "agents_online": 1,
          "message": "已为您转接人工服务，您前面还有1位市民，预计等待6分钟。"}


@pytest.fixture
def service() -> Iterator[RecordingService]:
    """The service answering a ticket."""
    with RecordingService(answer=TICKET) as running:
        yield running


def user(text: str, intent: str, confidence: float = 0.9, emotion: Dict[str, Any] | None = None,
         metadata: Dict[str, Any] | None = None, timestamp: float = 1767225600.0) -> Dict[str, Any]:
    """A user event as Rasa stores it."""
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    if emotion:
        parse["emotion"] = emotion
    return {"event": "user", "text": text, "timestamp": timestamp, "parse_data": parse,
            "metadata": metadata or {}}


def bot(text: str) -> Dict[str, Any]:
    """A bot event."""
    return {"event": "bot", "text": text, "timestamp": 1767225601.0}


def tracker_of(events: List[Dict[str, Any]], slots: Dict[str, Any] | None = None) -> Tracker:
    """A tracker whose latest message is the last user event."""
    latest = next(e for e in reversed(events) if e["event"] == "user")
    message = {**latest["parse_data"], "metadata": latest.get("metadata", {})}
    return Tracker("conv-42", slots or {}, message, events, False, None, None, "action_listen")


ANGRY = {"label": "angry", "score": 0.91, "scores": {"neutral": 0.05, "angry": 0.91, "distressed": 0.03,
                                                     "urgent": 0.01}, "source": "classifier"}
URGENT = {"label": "urgent", "score": 1.0, "scores": {"neutral": 0.4, "angry": 0.1, "distressed": 0.3,
                                                      "urgent": 0.2}, "source": "safety_lexicon"}
NEUTRAL = {"label": "neutral", "score": 0.97, "scores": {"neutral": 0.97, "angry": 0.01, "distressed": 0.01,
                                                         "urgent": 0.01}, "source": "classifier"}


async def run_handoff(service_url: str, tracker: Tracker) -> tuple[CollectingDispatcher, list]:
    """Runs action_handoff against the given service."""
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff(ServiceClient(service_url, "test-token", timeout=3)).run(dispatcher, tracker, {})
    return dispatcher, events


async def test_explicit_request_posts_the_whole_context(service: RecordingService) -> None:
    tracker = tracker_of([
        user("公积金怎么提取", "faq_housing_fund_withdraw", 0.88, NEUTRAL, {"channel": "web"}),
        bot("提取公积金需要……"),
        user("转人工", "request_human", 0.97, NEUTRAL, {"channel": "web"}, timestamp=1767225660.0),
    ], slots={"current_service": "housing_fund", "requested_slot": None, "faq_miss_count": 0})
    dispatcher, events = await run_handoff(service.url, tracker)

    assert len(service.requests) == 1
    request = service.requests[0]
    assert request["path"] == "/internal/handoff/tickets"
    assert request["authorization"] == "Bearer test-token"
    body = request["body"]
    assert body["conversation_id"] == "conv-42"
    assert body["reason"] == "explicit"
    assert body["channel"] == "web"
    assert body["slots"] == {"current_service": "housing_fund", "faq_miss_count": 0}
    assert [turn["text"] for turn in body["turns"]] == ["公积金怎么提取", "转人工"]
    assert body["turns"][0] == {"text": "公积金怎么提取", "intent": "faq_housing_fund_withdraw", "confidence": 0.88,
                                "emotion": {"label": "neutral", "score": 0.97, "scores": NEUTRAL["scores"]},
                                "timestamp": "2026-01-01T00:00:00+00:00"}
    assert body["emotion"]["label"] == "neutral"
    assert dispatcher.messages[0]["text"] == TICKET["message"]
    assert events == [SlotSet("handoff_reason", "explicit"), SlotSet("handoff_ticket_id", "17")]


async def test_urgent_outranks_an_explicit_request(service: RecordingService) -> None:
    tracker = tracker_of([user("我不想活了，快找人", "urgent_help", 1.0, URGENT, {"channel": "wechat"})])
    _, events = await run_handoff(service.url, tracker)
    body = service.requests[0]["body"]
    assert body["reason"] == "urgent"
    assert body["emotion"] == {"label": "urgent", "score": 1.0, "scores": URGENT["scores"]}
    assert body["channel"] == "wechat"
    assert SlotSet("handoff_reason", "urgent") in events


async def test_anger_in_a_recent_turn_makes_the_request_emotional(service: RecordingService) -> None:
    tracker = tracker_of([
        user("你们这什么破服务", "emotion_angry", 1.0, ANGRY),
        bot("非常抱歉……需要我为您转接人工服务吗？"),
        user("/request_human", "request_human", 1.0),
    ])
    await run_handoff(service.url, tracker)
    body = service.requests[0]["body"]
    assert body["reason"] == "emotional"
    assert body["emotion"]["label"] == "angry"
    assert "愤怒" in body["note"]
    assert body["channel"] == "api"


async def test_offer_policy_asks_before_queueing(service: RecordingService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_EMOTION_POLICY", "offer")
    tracker = tracker_of([user("气死我了", "emotion_angry", 1.0, ANGRY)])
    dispatcher, events = await run_handoff(service.url, tracker)
    assert service.requests == []
    assert dispatcher.messages[0]["response"] == "utter_offer_handoff"
    assert events == []


async def test_two_misses_then_the_offer_button_is_complex(service: RecordingService) -> None:
    tracker = tracker_of([
        user("那个东西咋弄", "nlu_fallback", 0.3),
        user("就是那个证", "nlu_fallback", 0.3),
        user("/request_human", "request_human", 1.0),
    ], slots={"faq_miss_count": 2})
    await run_handoff(service.url, tracker)
    body = service.requests[0]["body"]
    assert body["reason"] == "complex"
    assert "连续2次未被理解" in body["note"]


async def test_the_same_message_sent_again_is_noted(service: RecordingService) -> None:
    tracker = tracker_of([
        user("社保卡怎么激活", "faq_social_card", 0.6),
        user("社保卡怎么激活", "faq_social_card", 0.6),
        user("/request_human", "request_human", 1.0),
    ])
    await run_handoff(service.url, tracker)
    assert service.requests[0]["body"]["reason"] == "explicit"
    tracker = tracker_of([user("社保卡怎么激活", "faq_social_card", 0.6)] * 3)
    await run_handoff(service.url, tracker)
    body = service.requests[1]["body"]
    assert body["reason"] == "complex"
    assert "同一句话连续发送3次" in body["note"]


async def test_service_down_gives_the_hotline() -> None:
    with RecordingService() as stopped:
        url = stopped.url
    tracker = tracker_of([user("转人工", "request_human", 0.97)])
    dispatcher, events = await run_handoff(url, tracker)
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"
    assert events == [SlotSet("handoff_reason", "explicit")]


async def test_service_refusal_gives_the_hotline() -> None:
    answer = {"error": {"code": "validation_error", "message": "bad", "details": None}}
    with RecordingService(status=422, answer=answer) as refusing:
        dispatcher, _ = await run_handoff(refusing.url, tracker_of([user("转人工", "request_human", 0.97)]))
    assert dispatcher.messages[0]["response"] == "utter_handoff_unavailable"


async def test_a_ticket_without_message_uses_the_default_line() -> None:
    with RecordingService(answer={"ticket_id": 3}) as terse:
        dispatcher, events = await run_handoff(terse.url, tracker_of([user("人工", "request_human", 0.9)]))
    assert dispatcher.messages[0]["response"] == "utter_handoff_queued"
    assert SlotSet("handoff_ticket_id", "3") in events


def rating_tracker(value: Any) -> Tracker:
    """A tracker whose latest message is a rating button."""
    event = user(f'/rate{{"rating":{value}}}', "rate", 1.0)
    event["parse_data"]["entities"] = [{"entity": "rating", "value": value}]
    return tracker_of([event])


async def test_rating_is_posted_and_thanked() -> None:
    with RecordingService(status=201, answer={"ticket_id": 17, "rating": 4, "comment": None,
                                              "created_at": "2026-01-01T00:00:00Z"}) as running:
        dispatcher = CollectingDispatcher()
        events = await ActionStoreRating(ServiceClient(running.url, "t")).run(dispatcher, rating_tracker(4), {})
    assert running.requests[0]["path"] == "/internal/handoff/ratings"
    assert running.requests[0]["body"] == {"conversation_id": "conv-42", "rating": 4, "comment": None}
    assert dispatcher.messages[0]["response"] == "utter_rating_thanks"
    assert events == [SlotSet("rating", 4.0)]


@pytest.mark.parametrize("value", [0, 6, "abc", -1])
async def test_out_of_range_rating_asks_again(value: Any) -> None:
    with RecordingService(status=201, answer={}) as running:
        dispatcher = CollectingDispatcher()
        events = await ActionStoreRating(ServiceClient(running.url, "t")).run(dispatcher, rating_tracker(value), {})
    assert running.requests == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_rating_invalid", "utter_ask_rating"]
    assert events == [SlotSet("rating", None)]


async def test_rating_with_service_down_is_thanked_honestly() -> None:
    with RecordingService() as stopped:
        url = stopped.url
    dispatcher = CollectingDispatcher()
    await ActionStoreRating(ServiceClient(url, "t", timeout=2)).run(dispatcher, rating_tracker(5), {})
    assert dispatcher.messages[0]["response"] == "utter_rating_unsaved"


async def test_an_angry_explicit_request_gets_empathy_before_the_queue(service: RecordingService) -> None:
    tracker = tracker_of([user("气死我了，赶紧转人工", "request_human", 0.95, ANGRY)])
    dispatcher, _ = await run_handoff(service.url, tracker)
    assert dispatcher.messages[0]["response"] == "utter_empathy_angry"
    assert dispatcher.messages[1]["text"] == TICKET["message"]
    assert service.requests[0]["body"]["reason"] == "emotional"


async def test_a_rating_typed_in_words_keeps_them_as_comment() -> None:
    event = user("4分，工作人员很耐心", "rate", 0.9)
    event["parse_data"]["entities"] = [{"entity": "rating", "value": "4"}]
    with RecordingService(status=201, answer={}) as running:
        dispatcher = CollectingDispatcher()
        await ActionStoreRating(ServiceClient(running.url, "t")).run(dispatcher, tracker_of([event]), {})
    assert running.requests[0]["body"] == {"conversation_id": "conv-42", "rating": 4, "comment": "4分，工作人员很耐心"}


async def test_a_second_rating_is_acknowledged_not_an_error() -> None:
    answer = {"error": {"code": "already_rated", "message": "this chat was already rated", "details": None}}
    with RecordingService(status=409, answer=answer) as running:
        dispatcher = CollectingDispatcher()
        events = await ActionStoreRating(ServiceClient(running.url, "t")).run(dispatcher, rating_tracker(3), {})
    assert dispatcher.messages[0]["response"] == "utter_rating_already"
    assert events == []


async def test_handoff_during_a_form_closes_the_form(service: RecordingService) -> None:
    events_in = [user("我不想活了", "urgent_help", 1.0, URGENT)]
    tracker = Tracker("conv-42", {"requested_slot": "appointment_name"}, {**events_in[0]["parse_data"], "metadata": {}},
                      events_in, False, None, {"name": "appointment_form"}, "action_listen")
    _, events = await run_handoff(service.url, tracker)
    assert events[-2:] == [ActiveLoop(None), SlotSet("requested_slot", None)]
