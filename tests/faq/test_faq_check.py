"""`python -m faq.check` catches each class of defect with a precise message."""

from pathlib import Path

import pytest

from faq.check import check_directory, main


def edit(path: Path, old: str, new: str) -> None:
    """Replaces one exact text in a knowledge base file."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def messages(faq_dir: Path) -> list[str]:
    """The problems of a knowledge base directory, as text."""
    return [str(problem) for problem in check_directory(faq_dir)]


def test_template_variable_missing_from_the_catalogue(faq_dir: Path) -> None:
    edit(faq_dir / "entries" / "passport.yml", 'answer: "{name}收费：{fee}。"', 'answer: "{name}收费：{fees}。"')
    found = messages(faq_dir)
    assert found == ["passport.yml: entry 'passport_fee': template variable {fees} is missing from "
                     "catalogue service 'passport'"]


def test_template_detail_missing_from_the_catalogue(faq_dir: Path) -> None:
    edit(faq_dir / "entries" / "passport.yml", "{details.validity}", "{details.expiry}")
    assert any("{details.expiry} is missing from catalogue service 'passport'" in m for m in messages(faq_dir))


def test_malformed_placeholder(faq_dir: Path) -> None:
    edit(faq_dir / "entries" / "passport.yml", 'answer: "{name}收费：{fee}。"', 'answer: "{name}收费：{ fee }。"')
    assert any("passport_fee" in m and "brace" in m for m in messages(faq_dir))


def test_service_without_a_required_field(faq_dir: Path) -> None:
    edit(faq_dir / "catalogue.yml", "    fee: 普通护照120元/本（国家标准）\n", "")
    found = messages(faq_dir)
    assert "catalogue.yml: service 'passport': required field 'fee' is missing or empty" in found
    # Entries of a service that cannot be loaded are reported too, not silently dropped.
    assert any("service 'passport' is not in the catalogue" in m for m in found)


def test_entry_of_an_unknown_service(faq_dir: Path) -> None:
    edit(faq_dir / "entries" / "passport.yml", "service: passport\n    aspect: fee", "service: pasport\n    aspect: fee")
    assert any("entry 'passport_fee': service 'pasport' is not in the catalogue" in m for m in messages(faq_dir))


def test_question_variant_in_two_entries(faq_dir: Path) -> None:
    edit(faq_dir / "entries" / "passport.yml", "[护照多少钱, ", "[护照多少钱, 办护照要带什么, ")
    found = messages(faq_dir)
    assert "entries: question variant '办护照要带什么' appears in entries passport_materials, passport_fee" in found


def test_two_entries_too_similar_to_tell_apart(faq_dir: Path) -> None:
    passport = faq_dir / "entries" / "passport.yml"
    text = passport.read_text(encoding="utf-8")
    start = text.index("  - id: passport_fee")
    end = text.index("  - id: passport_time")
    copy = text[start:end].replace("passport_fee", "passport_price")
    for old, new in (("护照多少钱", "护照多少钱呀"), ("办护照多少钱", "办护照多少钱呢"), ("护照费用", "护照的费用"),
                     ("护照收费标准", "护照的收费标准"), ("护照工本费", "护照的工本费")):
        copy = copy.replace(old, new, 1)
    passport.write_text(text + copy, encoding="utf-8")
    found = messages(faq_dir)
    assert any(m.startswith("entries: entries 'passport_fee' and 'passport_price' have questions too similar")
               for m in found), found


def test_too_few_questions_and_broken_yaml(faq_dir: Path) -> None:
    (faq_dir / "entries" / "broken.yml").write_text("topic: x\nentries: [\n", encoding="utf-8")
    (faq_dir / "entries" / "short.yml").write_text(
        "topic: 测试\nentries:\n  - id: short_entry\n    service: passport\n    aspect: fee\n"
        "    title: 短\n    questions: [护照到底多少钱]\n    answer: \"{fee}\"\n", encoding="utf-8")
    found = messages(faq_dir)
    assert any(m.startswith("broken.yml: not valid YAML") for m in found)
    assert "short.yml: entry 'short_entry': has 1 distinct questions, needs at least 12" in found


@pytest.mark.parametrize("bad_bookable", ["yes-please", "1"])
def test_bookable_must_be_a_boolean(faq_dir: Path, bad_bookable: str) -> None:
    edit(faq_dir / "catalogue.yml", "    phone: 0000-88006001\n    bookable: true\n    details:\n      validity: 未满16",
         f"    phone: 0000-88006001\n    bookable: \"{bad_bookable}\"\n    details:\n      validity: 未满16")
    assert "catalogue.yml: service 'passport': field 'bookable' must be true or false" in messages(faq_dir)


def test_main_prints_each_problem_and_fails(faq_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(faq_dir / "entries" / "passport.yml", 'answer: "{name}收费：{fee}。"', 'answer: "{name}收费：{fees}。"')
    assert main([str(faq_dir)]) == 1
    output = capsys.readouterr().out
    assert "ERROR passport.yml: entry 'passport_fee': template variable {fees}" in output
    assert "1 problem(s)" in output


def test_qualifiers_must_be_texts(faq_dir: Path) -> None:
    edit(faq_dir / "catalogue.yml", "    qualifiers: [外地户口,", "    qualifiers: [[外地], 外地户口,")
    assert "catalogue.yml: service 'hukou': field 'qualifiers' must be a list of texts" in messages(faq_dir)


def test_an_entry_may_answer_several_aspects_but_only_known_ones(faq_dir: Path) -> None:
    edit(faq_dir / "entries" / "passport.yml", "service: passport\n    aspect: fee",
         "service: passport\n    aspect: [fee, time]")
    assert messages(faq_dir) == []
    edit(faq_dir / "entries" / "passport.yml", "aspect: [fee, time]", "aspect: [fee, colour]")
    assert messages(faq_dir) == ["passport.yml: entry 'passport_fee': aspect 'colour' is not in aspects.yml"]
