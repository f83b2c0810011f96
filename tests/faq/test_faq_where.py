"""Where a service is handled: answered from the catalogue for the service talked about."""

from pathlib import Path

import pytest

from faq.enums import AnswerStatus
from faq.flows import decide
from faq.knowledge_base import load_knowledge_base
from faq.models import AnswerRequest
from faq.settings import FaqSettings

FAQ_DIR = Path(__file__).resolve().parents[2] / "faq"


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge_base(FAQ_DIR)


def ask(knowledge, text: str, current_service: str | None = None):
    return decide(knowledge, AnswerRequest(conversation_id="c", text=text, current_service=current_service),
                  FaqSettings())


@pytest.mark.parametrize(("text", "service", "expected"), [
    ("在几楼办啊", "real_estate", "四楼"),
    ("在哪个窗口", "housing_fund_withdrawal", "C0"),
])
def test_where_a_service_is_handled(knowledge, text: str, service: str | None, expected: str) -> None:
    reply = ask(knowledge, text, service)
    assert reply.status == AnswerStatus.answered
    assert expected in reply.text


def test_the_where_button_answers_again(knowledge) -> None:
    reply = decide(knowledge, AnswerRequest(conversation_id="c", text="", entry_id="where.passport"), FaqSettings())
    assert reply.status == AnswerStatus.answered and ("护照" in reply.text or "出入境" in reply.text)


def test_a_question_naming_its_service_is_answered_by_its_entries(knowledge) -> None:
    reply = ask(knowledge, "残疾证在哪个地方办理")
    assert reply.entry_id == "disability_card_apply"


@pytest.mark.parametrize(("text", "service", "expected"), [
    ("小孩上学报名能预约吗", None, "暂不支持在线预约"),
    ("低保申请能预约吗", None, "可以在线预约"),
    ("办护照要预约吗", None, "可以在线预约"),
    ("这个能约吗", "social_security_card", "可以在线预约"),
])
def test_whether_a_service_can_be_booked(knowledge, text: str, service: str | None, expected: str) -> None:
    reply = ask(knowledge, text, service)
    assert reply.status == AnswerStatus.answered and expected in reply.text


def test_an_entry_that_speaks_of_booking_answers_it(knowledge) -> None:
    reply = ask(knowledge, "结婚登记要预约吗")
    assert reply.entry_id == "marriage_eligibility"


@pytest.mark.parametrize(("text", "service", "aspect", "expected"), [
    # The service named or talked about, asked one thing its catalogue fields state.
    ("护照周六能办吗", None, "hours", "周六全天"),
    ("周六能办不", "passport", "hours", "周六全天"),
    ("办下来要多久？", "business_license", "time", "个工作日"),
    ("要交钱吗", "marriage", "fee", "免费"),
])
def test_hours_time_and_fee_of_the_service_talked_about(knowledge, text: str, service: str | None, aspect: str,
                                                         expected: str) -> None:
    reply = ask(knowledge, text, service)
    assert reply.status == AnswerStatus.answered
    assert reply.entry_id == f"{aspect}.{service or 'passport'}"
    assert expected in reply.text


def test_an_entry_that_answers_clearly_comes_before_the_catalogue_fields(knowledge) -> None:
    assert ask(knowledge, "护照多久能拿到").entry_id == "passport_time"


def test_the_catalogue_answer_can_be_asked_for_again_by_its_id(knowledge) -> None:
    reply = decide(knowledge, AnswerRequest(conversation_id="c", text="", entry_id="hours.id_card"), FaqSettings())
    assert reply.status == AnswerStatus.answered and "周六" in reply.text
