"""Mobile numbers, GB 11643 ID numbers and confirmation codes (masking: tests/service/test_pii.py)."""

import pytest

from appointments.citizen_identity import (
    CODE_ALPHABET,
    id_number_problem,
    mobile_problem,
    new_confirmation_code,
)


@pytest.mark.parametrize(("value", "problem"), [
    ("13800138000", None), ("+86 138-0013-8000", None), ("19912345678", None),
    ("12800138000", "mobile_prefix"), ("1380013800", "mobile_length"), ("138001380001", "mobile_length"),
    ("1380013800a", "mobile_not_digits"), ("", "mobile_not_digits"), ("１３８００１３８０００", None),
])
def test_mobile(value: str, problem: str | None) -> None:
    assert mobile_problem(value) == problem


@pytest.mark.parametrize(("value", "problem"), [
    ("11010519491231002X", None), ("11010519491231002x", None), ("110105194912310021", "id_number_checksum"),
    ("440524188001010014", None), ("44052418800101001", "id_number_format"), ("4405241880010100AA", "id_number_format"),
])
def test_id_number_checksum(value: str, problem: str | None) -> None:
    assert id_number_problem(value) == problem


def test_codes_avoid_confusable_characters() -> None:
    assert not set("0O1IL") & set(CODE_ALPHABET)
    codes = {new_confirmation_code() for _ in range(500)}
    assert len(codes) > 490
    assert all(len(code) == 6 and set(code) <= set(CODE_ALPHABET) for code in codes)
