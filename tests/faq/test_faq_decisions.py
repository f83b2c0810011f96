"""Deciding from a ranking: answer the entry clearly meant, ask which one, or say it is not known."""

from faq.enums import AnswerStatus
from faq.flows import choose
from faq.matcher import Candidate, Ranking
from faq.settings import FaqSettings

SERVICE_OF = {"a_fee": "a", "a_time": "a", "b_fee": "b", "c_fee": "c"}
SETTINGS = FaqSettings(answer_threshold=0.55, clarify_threshold=0.30, ambiguity_margin=0.03, clear_lead=0.25)


def ranking(*candidates: tuple[str, float, float], named: tuple[str, ...] = ()) -> Ranking:
    """A ranking of (entry id, score, confidence), best first."""
    return Ranking("text", named, None, (), tuple(Candidate(entry_id, score, confidence, confidence, False, False)
                                                  for entry_id, score, confidence in candidates))


def test_a_confident_best_is_answered_unless_another_service_is_as_likely() -> None:
    assert choose(ranking(("a_fee", 1.5, 0.7), ("a_time", 1.49, 0.6)), SERVICE_OF, SETTINGS).status \
        == AnswerStatus.answered
    assert choose(ranking(("a_fee", 1.5, 0.7), ("b_fee", 1.49, 0.6)), SERVICE_OF, SETTINGS).status \
        == AnswerStatus.clarify


def test_a_best_below_the_answer_threshold_is_answered_when_it_clearly_leads() -> None:
    clear = choose(ranking(("a_fee", 1.2, 0.4), ("b_fee", 0.9, 0.35)), SERVICE_OF, SETTINGS)
    assert clear.status == AnswerStatus.answered and clear.entries[0].entry_id == "a_fee"
    # Too small a lead, or another entry with more direct evidence: asked.
    assert choose(ranking(("a_fee", 1.2, 0.4), ("b_fee", 1.0, 0.35)), SERVICE_OF, SETTINGS).status \
        == AnswerStatus.clarify
    assert choose(ranking(("a_fee", 1.2, 0.4), ("b_fee", 0.9, 0.45)), SERVICE_OF, SETTINGS).status \
        == AnswerStatus.clarify


def test_nothing_worth_offering_is_not_known() -> None:
    assert choose(ranking(("a_fee", 0.9, 0.2)), SERVICE_OF, SETTINGS).status == AnswerStatus.unknown
    assert choose(ranking(), SERVICE_OF, SETTINGS).status == AnswerStatus.unknown


def test_a_clarification_offers_the_named_service_whatever_others_score() -> None:
    choice = choose(ranking(("a_fee", 1.0, 0.4), ("a_time", 0.95, 0.4), ("b_fee", 0.9, 0.38), ("c_fee", 0.8, 0.35),
                            named=("c",)), SERVICE_OF, SETTINGS)
    assert choice.status == AnswerStatus.clarify
    assert [c.entry_id for c in choice.entries] == ["a_fee", "a_time", "c_fee"]
