"""Checks what identifies a citizen: mobile numbers, ID numbers, confirmation codes (masking: service.pii)."""

import re
import secrets

from service.pii import ID_NUMBER_PATTERN, MOBILE_PATTERN, normalise_mobile

# GB 11643-1999: weights of the first 17 digits and the check character for sum mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Easy to read aloud: no 0/O and no 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


def mobile_problem(value: str) -> str | None:
    """Returns why a mobile number is invalid (a reason code), or None when it is fine."""
    digits = normalise_mobile(value)
    if not digits.isdigit():
        return "mobile_not_digits"
    if len(digits) != 11:
        return "mobile_length"
    if not MOBILE_PATTERN.match(digits):
        return "mobile_prefix"
    return None


def id_number_problem(value: str) -> str | None:
    """Returns why an ID number fails GB 11643 (a reason code), or None when it is valid."""
    number = (value or "").strip().upper()
    if not ID_NUMBER_PATTERN.match(number):
        return "id_number_format"
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK_CHARS[total % 11] != number[17]:
        return "id_number_checksum"
    return None


def new_confirmation_code() -> str:
    """Draws a random 6-character code from the read-aloud alphabet."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str) -> str:
    """Upper-cases a code and drops spaces and dashes a citizen may type."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def is_code_shaped(value: str) -> bool:
    """True when a string could be a confirmation code."""
    return len(value) == CODE_LENGTH and all(char in CODE_ALPHABET for char in value)
