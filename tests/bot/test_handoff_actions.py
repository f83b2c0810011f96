"""Handoff actions against a real HTTP server on 127.0.0.1 standing in for the service."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import (
    NOTES_FILE,
    ActionAfterOffer,
    ActionHandoff,
    ActionNotUnderstood,
    ActionOfferPerson,
    ActionStoreRating,
)
from bot.actions.service_client import ServiceClient
from handoff.vocabulary import Emotion

ROOT = Path(__file__).resolve().parents[2]


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


def action(name: str) -> Dict[str, Any]:
    """An action event."""
    return {"event": "action", "name": name, "timestamp": 1767225601.0}


def tracker_of(events: List[Dict[str, Any]], slots: Dict[str, Any] | None = None,
               active_loop: Dict[str, Any] | None = None) -> Tracker:
    """A tracker whose latest message is the last user event."""
    latest = next(e for e in reversed(events) if e["event"] == "user")
    message = {**latest["parse_data"], "metadata": latest.get("metadata", {})}
    return Tracker("conv-42", slots or {}, message, events, False, None, active_loop, "action_listen")


def load_domain() -> Dict[str, Any]:
    """The responses of the core domain and the handoff fragment, as the action server receives them."""
    responses: Dict[str, Any] = {}
    for path in (ROOT / "domain.yml", ROOT / "bot" / "domain" / "handoff.yml"):
        responses.update(yaml.safe_load(path.read_text(encoding="utf-8"))["responses"])
    return {"responses": responses}


DOMAIN = load_domain()


def text_of(response: str) -> str:
    """The (only) wording of a response."""
    return DOMAIN["responses"][response][0]["text"]


async def run_action(action_class: Any, tracker: Tracker) -> tuple[CollectingDispatcher, list]:
    """Runs an action that does not call the service."""
    dispatcher = CollectingDispatcher()
    events = await action_class().run(dispatcher, tracker, DOMAIN)
    return dispatcher, events


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


async def test_a_mildly_impatient_request_for_a_person_is_explicit(service: RecordingService) -> None:
    impatient = {**ANGRY, "score": 0.6, "scores": {"neutral": 0.34, "angry": 0.6, "distressed": 0.01, "urgent": 0.05}}
    tracker = tracker_of([user("别跟我绕了 我要找真人说", "request_human", 0.99, impatient)])
    dispatcher, _ = await run_handoff(service.url, tracker)
    body = service.requests[0]["body"]
    assert body["reason"] == "explicit"
    assert body["emotion"]["label"] == "angry"
    assert dispatcher.messages[0]["text"] == TICKET["message"]


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


def ranked(text: str, override: str, original: str, emotion: Dict[str, Any]) -> Dict[str, Any]:
    """An upset message as the emotion component leaves it: its intent on top, the NLU's below."""
    event = user(text, override, 1.0, emotion, {"channel": "web"})
    event["parse_data"]["intent_ranking"] = [{"name": override, "confidence": 1.0},
                                             {"name": original, "confidence": 0.93},
                                             {"name": "greet", "confidence": 0.01}]
    return event


DISTRESSED = {"label": "distressed", "score": 0.7, "scores": {"neutral": 0.1, "angry": 0.1, "distressed": 0.7,
                                                              "urgent": 0.1}, "source": "classifier"}


async def test_anger_gets_one_message_offering_a_person_a_complaint_or_carrying_on() -> None:
    dispatcher, events = await run_action(ActionOfferPerson, tracker_of([
        ranked("我要开个纳税证明，你们这破系统气死我了", "emotion_angry", "faq", ANGRY)]))
    assert [m["response"] for m in dispatcher.messages] == ["utter_empathy_offer_angry"]
    assert events == []
    buttons = DOMAIN["responses"]["utter_empathy_offer_angry"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/request_human", "/choose_complaint", "/continue_task"]
    assert [b["title"] for b in buttons] == ["转人工", "我要投诉", "继续办理"]


async def test_distress_gets_the_gentle_offer_and_never_the_same_words_twice() -> None:
    dispatcher, _ = await run_action(ActionOfferPerson, tracker_of([
        ranked("我真的不知道该怎么办了", "emotion_distressed", "faq", DISTRESSED)]))
    assert dispatcher.messages[0]["response"] == "utter_empathy_offer_distressed"
    dispatcher, _ = await run_action(ActionOfferPerson, tracker_of([
        ranked("我真的不知道该怎么办了", "emotion_distressed", "faq", DISTRESSED), action("action_offer_person"),
        bot(text_of("utter_empathy_offer_distressed")),
        ranked("我还是好乱", "emotion_distressed", "nlu_fallback", DISTRESSED)]))
    assert dispatcher.messages[0]["response"] == "utter_empathy_offer_distressed_again"


def offered(upset: Dict[str, Any], button: str, intent: str) -> List[Dict[str, Any]]:
    """The upset message, the offer, and the button the citizen pressed."""
    return [action("action_listen"), upset, action("action_offer_person"), bot(text_of("utter_empathy_offer_angry")),
            action("action_listen"), user(button, intent, 1.0)]


async def test_the_complaint_button_replays_the_upset_words_as_a_complaint() -> None:
    upset = ranked("你们这什么破系统，气死我了", "emotion_angry", "file_complaint", ANGRY)
    dispatcher, events = await run_action(ActionAfterOffer, tracker_of(offered(upset, "/choose_complaint",
                                                                                "choose_complaint")))
    assert dispatcher.messages == []
    assert events[:3] == [UserUtteranceReverted(), UserUtteranceReverted(), ActionExecuted("action_listen")]
    replay = events[3]
    assert replay["event"] == "user" and replay["text"] == "你们这什么破系统，气死我了"
    assert replay["parse_data"]["intent"] == {"name": "file_complaint", "confidence": 1.0}
    assert [r["name"] for r in replay["parse_data"]["intent_ranking"]] == ["file_complaint", "greet"]
    # The complaint form sees the citizen's mood and channel.
    assert replay["parse_data"]["emotion"]["label"] == "angry"
    assert replay["metadata"] == {"channel": "web"}


async def test_carrying_on_replays_what_the_citizen_asked_before_the_anger() -> None:
    upset = ranked("我要开个纳税证明，你们这破系统气死我了", "emotion_angry", "faq", ANGRY)
    _, events = await run_action(ActionAfterOffer, tracker_of(offered(upset, "/continue_task", "continue_task")))
    assert events[:3] == [UserUtteranceReverted(), UserUtteranceReverted(), ActionExecuted("action_listen")]
    assert events[3]["parse_data"]["intent"]["name"] == "faq"
    assert events[3]["text"] == "我要开个纳税证明，你们这破系统气死我了"


async def test_carrying_on_resumes_the_form_under_way() -> None:
    upset = ranked("怎么又要填，烦死了", "emotion_angry", "inform", ANGRY)
    tracker = tracker_of(offered(upset, "/continue_task", "continue_task"), active_loop={"name": "appointment_form"})
    _, events = await run_action(ActionAfterOffer, tracker)
    assert events == [UserUtteranceReverted(), UserUtteranceReverted(), FollowupAction("appointment_form")]


async def test_carrying_on_with_nothing_under_way_asks_what_to_do() -> None:
    upset = ranked("气死我了", "emotion_angry", "nlu_fallback", ANGRY)
    dispatcher, events = await run_action(ActionAfterOffer, tracker_of(offered(upset, "/continue_task",
                                                                                "continue_task")))
    assert [m["response"] for m in dispatcher.messages] == ["utter_continue_prompt"]
    assert events == []


async def test_a_complaint_button_without_an_offer_before_it_opens_an_empty_complaint() -> None:
    _, events = await run_action(ActionAfterOffer, tracker_of([user("/choose_complaint", "choose_complaint", 1.0)]))
    assert events[0] == ActionExecuted("action_listen")
    assert events[1]["text"] == "我要投诉" and events[1]["parse_data"]["intent"]["name"] == "file_complaint"


async def test_first_miss_asks_again_the_second_offers_a_person_and_none_repeats() -> None:
    first = [action("action_listen"), user("阿巴阿巴", "unclear", 0.9)]
    dispatcher, events = await run_action(ActionNotUnderstood, tracker_of(first))
    assert dispatcher.messages[0]["response"] == "utter_not_understood"
    assert events == [SlotSet("faq_miss_count", 1.0), FollowupAction("action_listen")]

    second = [*first, action("action_not_understood"), bot(text_of("utter_not_understood")),
              action("action_listen"), user("嗯嗯那个东西", "unclear", 0.8)]
    dispatcher, events = await run_action(ActionNotUnderstood, tracker_of(second))
    assert dispatcher.messages[0]["response"] == "utter_not_understood_offer"
    assert "/request_human" in [b["payload"] for b in DOMAIN["responses"]["utter_not_understood_offer"][0]["buttons"]]
    assert events == [SlotSet("faq_miss_count", 2.0), FollowupAction("action_listen")]

    third = [*second, action("action_not_understood"), bot(text_of("utter_not_understood_offer")),
             action("action_listen"), user("就是那个啥", "unclear", 0.8)]
    dispatcher, _ = await run_action(ActionNotUnderstood, tracker_of(third))
    assert dispatcher.messages[0]["response"] == "utter_not_understood_offer_again"
    texts = [text_of("utter_not_understood"), text_of("utter_not_understood_offer"),
             text_of("utter_not_understood_offer_again")]
    assert len(set(texts)) == 3


async def test_misses_count_across_the_faq_fallback_and_a_bare_yes() -> None:
    events_in = [user("阿巴", "nlu_fallback", 0.3), action("action_clarify"), bot(text_of("utter_rephrase")),
                 user("嗯嗯", "affirm", 0.9), action("utter_affirm_ack"), bot("好的。"),
                 user("嗯", "affirm", 0.9)]
    dispatcher, events = await run_action(ActionNotUnderstood, tracker_of(events_in))
    assert dispatcher.messages[0]["response"] == "utter_not_understood_offer"
    assert events == [SlotSet("faq_miss_count", 3.0), FollowupAction("action_listen")]
    # A first miss right after the FAQ's rephrase request does not say the same thing again.
    dispatcher, _ = await run_action(ActionNotUnderstood, tracker_of([
        user("社保卡怎么补", "faq", 0.9), action("action_answer_faq"), bot(text_of("utter_rephrase")),
        user("哈哈", "unclear", 0.9)]))
    assert dispatcher.messages[0]["response"] == "utter_not_understood"


async def test_the_offer_button_after_two_misses_is_complex_without_the_faq_count(service: RecordingService) -> None:
    tracker = tracker_of([
        user("阿巴阿巴", "unclear", 0.9), action("action_not_understood"), bot(text_of("utter_not_understood")),
        user("就是那个啥", "unclear", 0.9), action("action_not_understood"),
        bot(text_of("utter_not_understood_offer")), user("/request_human", "request_human", 1.0),
    ])
    await run_handoff(service.url, tracker)
    body = service.requests[0]["body"]
    assert body["reason"] == "complex"
    assert "连续2次未被理解" in body["note"]


async def test_the_person_button_after_the_offer_is_emotional_and_rewound_turns_are_left_out(
        service: RecordingService) -> None:
    upset = ranked("你们这什么破服务", "emotion_angry", "faq", ANGRY)
    events_in = [*offered(upset, "/continue_task", "continue_task"), action("action_after_offer"),
                 {"event": "rewind"}, {"event": "rewind"}, action("action_listen"),
                 user("你们这什么破服务", "faq", 1.0, ANGRY), action("action_answer_faq"), bot("……"),
                 action("action_listen"), user("/request_human", "request_human", 1.0)]
    await run_handoff(service.url, tracker_of(events_in))
    body = service.requests[0]["body"]
    assert body["reason"] == "emotional"
    assert [turn["text"] for turn in body["turns"]] == ["你们这什么破服务", "/request_human"]


def test_every_emotion_label_has_a_note_for_the_agent() -> None:
    notes = yaml.safe_load(NOTES_FILE.read_text(encoding="utf-8"))["emotions"]
    assert set(notes) == {emotion.value for emotion in Emotion}
