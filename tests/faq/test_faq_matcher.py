"""The matcher: aspect words, learned models, confidence apart from ranking, cross-validation folds."""

from pathlib import Path

from faq.check import read_aspects
from faq.crossval import folds
from faq.knowledge import read_sources
from faq.knowledge_base import load_knowledge_base
from faq.matcher import FaqMatcher
from faq.settings import FAQ_DIR


def matcher() -> FaqMatcher:
    """The shipped knowledge base's matcher."""
    return load_knowledge_base(FAQ_DIR).matcher


def test_the_longest_aspect_word_wins() -> None:
    reading = matcher().read("护照大概多少个工作日能出证")
    assert reading.named_services == ("passport",)
    assert reading.aspects == ("time",)


def test_aspect_words_inside_a_service_name_do_not_count() -> None:
    reading = matcher().read("补办身份证要带什么")
    assert reading.named_services == ("id_card_loss",)
    assert "loss" not in reading.aspects and "materials" in reading.aspects
    assert "身份证" not in reading.asked


def test_learned_models_share_out_what_the_text_points_at() -> None:
    ranking = matcher().rank("护照审批要等几个工作日")
    assert ranking.best is not None and ranking.best.entry_id == "passport_time"
    best = ranking.best
    # Confidence is direct evidence only; the learned models add to the ranking score alone.
    assert best.confidence < best.score


def test_knowledge_bases_with_the_same_questions_share_the_entry_model(faq_dir: Path) -> None:
    sources = read_sources(faq_dir)
    aspects = read_aspects(faq_dir, [])
    first = FaqMatcher(sources.entries, sources.services, aspects)
    second = FaqMatcher(sources.entries, sources.services, aspects)
    assert first.entry_model is second.entry_model


def test_each_fold_holds_out_one_variant_per_entry() -> None:
    entries = read_sources(FAQ_DIR).entries
    all_folds = folds(entries)
    assert len(all_folds) == max(len(entry.questions) for entry in entries)
    for training, held_out in all_folds[:3]:
        assert len(held_out) == len(entries)
        questions = {entry.id: set(entry.questions) for entry in training}
        assert all(question not in questions[entry_id] for entry_id, question in held_out)


def test_a_three_character_name_with_its_middle_character_mistyped_is_read_as_the_name() -> None:
    reading = matcher().read("公基金怎么提取")
    assert reading.named_services == ("housing_fund_withdrawal",)
    assert matcher().read("身分证过期了换新的").named_services == ("id_card",)
    # Not when a name already covers the characters, nor when the typed word is a word of its own.
    assert matcher().correct_typos("准生证怎么办") == "准生证怎么办"
    assert matcher().correct_typos("社保卡怎么办") == "社保卡怎么办"


def test_a_qualifier_names_no_service_nor_the_aliases_inside_it() -> None:
    assert matcher().read("外地户口的老人坐公交免费吗").named_services == ("elderly_benefits",)
    assert matcher().read("外地户口怎么迁户口").named_services == ("hukou",)


def test_long_numbers_are_no_words() -> None:
    assert matcher().read("我手机13800008000能办护照吗").cleaned == matcher().read("我手机能办护照吗").cleaned.replace(
        "我手机能", "我手机 能")
