"""Complaint actions against the service's HTTP boundary: empathy first, validation, filing, guarded lookups."""

import asyncio
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import complaints
from bot.actions.service_client import ServiceClient, ServiceError

Call = Tuple[str, str, Any]


class ServiceBoundary:
    """Answers the actions' HTTP calls with the service's documented responses and records them."""

    def __init__(self, answers: Dict[str, Any]) -> None:
        self.answers = answers
        self.calls: List[Call] = []

    async def request(self, client: ServiceClient, method: str, path: str, *, json: Any = None,
                      params: Optional[Dict[str, Any]] = None) -> Any:
        self.calls.append((method, path, json))
        answer = self.answers[path]
        if isinstance(answer, ServiceError):
            raise answer
        return answer


@pytest.fixture
def boundary(monkeypatch: pytest.MonkeyPatch) -> ServiceBoundary:
    service = ServiceBoundary({
        "/internal/complaints/classify": {"category": "staff_attitude", "label": "服务态度", "score": 5,
                                          "matched": ["态度"]},
        "/internal/complaints/categories": [{"category": "staff_attitude", "label": "服务态度"},
                                            {"category": "other", "label": "其他"}],
        "/internal/complaints": {"number": "TS20261121-0007", "deadlines_text": "我们将在30分钟内（今天15:42前）首次答复，"
                                 "48小时内（11月23日15:12前）给出处理方案。", "lookup_code": None, "is_repeat": False},
    })

    async def request(client: ServiceClient, method: str, path: str, **kwargs: Any) -> Any:
        return await service.request(client, method, path, **kwargs)

    monkeypatch.setattr(ServiceClient, "request", request)
    return service


def tracker(text: str = "", slots: Optional[Dict[str, Any]] = None, emotion: Optional[str] = None,
            intent: str = "file_complaint") -> Tracker:
    message: Dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    if emotion:
        message["emotion"] = {"label": emotion, "score": 0.9}
    return Tracker("chat-42", slots or {}, message, [], False, None, {}, "action_listen")


def run(action: Any, dispatcher: CollectingDispatcher, current: Tracker) -> List[Dict[str, Any]]:
    return asyncio.run(action.run(dispatcher, current, {}))


def test_angry_citizen_gets_empathy_first(boundary: ServiceBoundary) -> None:
    dispatcher = CollectingDispatcher()
    events = run(complaints.ActionStartComplaint(), dispatcher, tracker("3号窗口的工作人员态度太差了，我要投诉",
                                                                      emotion="angry"))
    assert dispatcher.messages[0]["response"] == "utter_complaint_empathy"
    # The form reads the opening message itself (tests/bot/test_complaint_form.py).
    assert SlotSet("complaint_description", None) in events and boundary.calls == []


def test_anger_words_trigger_empathy_without_the_classifier(boundary: ServiceBoundary) -> None:
    dispatcher = CollectingDispatcher()
    run(complaints.ActionStartComplaint(), dispatcher, tracker("排了一上午队，太过分了"))
    assert dispatcher.messages[0]["response"] == "utter_complaint_empathy"


def test_submission_files_and_states_number_and_deadlines(boundary: ServiceBoundary) -> None:
    dispatcher = CollectingDispatcher()
    slots = {"complaint_confirmed": True, "complaint_category": "staff_attitude",
             "complaint_description": "3号窗口态度差", "complaint_location": "未提供",
             "complaint_contact": "13812345678"}
    events = run(complaints.ActionSubmitComplaint(), dispatcher, tracker(slots=slots))
    method, path, body = boundary.calls[-1]
    assert (method, path) == ("POST", "/internal/complaints")
    assert body == {"category": "staff_attitude", "description": "3号窗口态度差", "location": None,
                    "mobile": "13812345678", "anonymous": False, "conversation_id": "chat-42"}
    assert dispatcher.messages[0]["response"] == "utter_complaint_filed"
    assert dispatcher.messages[0]["number"] == "TS20261121-0007"
    assert "30分钟内（今天15:42前）" in dispatcher.messages[0]["deadlines"]
    assert SlotSet("complaint_description", None) in events


def test_declined_summary_files_nothing(boundary: ServiceBoundary) -> None:
    dispatcher = CollectingDispatcher()
    run(complaints.ActionSubmitComplaint(), dispatcher, tracker(slots={"complaint_confirmed": False}))
    assert boundary.calls == []
    assert dispatcher.messages[0]["response"] == "utter_complaint_cancelled"


@pytest.mark.parametrize("status,response", [(404, "utter_complaint_lookup_failed"),
                                             (429, "utter_complaint_lookup_locked"),
                                             (409, "utter_complaint_not_open")])
def test_lookup_refusals_reveal_nothing(boundary: ServiceBoundary, status: int, response: str) -> None:
    boundary.answers["/internal/complaints/lookup"] = ServiceError(status, "x", "refused")
    dispatcher = CollectingDispatcher()
    slots = {"complaint_request": "check", "complaint_ticket_number": "TS20261121-0007",
             "complaint_verification": "0000"}
    run(complaints.ActionComplaintFollowup(), dispatcher, tracker(slots=slots))
    assert dispatcher.messages == [{"text": None, "buttons": [], "elements": [], "custom": {}, "template": response,
                                    "response": response, "image": None, "attachment": None}]
    assert boundary.calls[-1][2]["requester"] == "chat-42"


def test_lookup_form_validates_number_and_digits() -> None:
    form = complaints.ValidateComplaintLookupForm()
    dispatcher = CollectingDispatcher()
    assert asyncio.run(form.validate_complaint_ticket_number("ts20261121-0007", dispatcher, tracker(), {})) == {
        "complaint_ticket_number": "TS20261121-0007"}
    assert asyncio.run(form.validate_complaint_ticket_number("12345", dispatcher, tracker(), {})) == {
        "complaint_ticket_number": None}
    assert asyncio.run(form.validate_complaint_verification("后四位5678", dispatcher, tracker(), {})) == {
        "complaint_verification": "5678"}
    assert asyncio.run(form.validate_complaint_verification("56789", dispatcher, tracker(), {})) == {
        "complaint_verification": None}
    slots = asyncio.run(form.required_slots(["complaint_ticket_number", "complaint_verification",
                                             "complaint_extra_info"], dispatcher,
                                            tracker(slots={"complaint_request": "check"}), {}))
    assert slots == ["complaint_ticket_number", "complaint_verification"]


def test_a_ticket_filed_in_this_conversation_is_looked_up_without_the_four_digits() -> None:
    form = complaints.ValidateComplaintLookupForm()
    asked = ["complaint_ticket_number", "complaint_verification", "complaint_extra_info"]
    own = tracker(slots={"complaint_ticket_number": "TS20261201-0005", "complaint_filed_number": "TS20261201-0005"})
    other = tracker(slots={"complaint_ticket_number": "TS20261130-0002", "complaint_filed_number": "TS20261201-0005"})
    assert asyncio.run(form.required_slots(asked, CollectingDispatcher(), own, {})) == ["complaint_ticket_number"]
    assert asyncio.run(form.required_slots(asked, CollectingDispatcher(), other, {})) == [
        "complaint_ticket_number", "complaint_verification"]
