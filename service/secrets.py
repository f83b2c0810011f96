"""Refuses to start with a missing or placeholder secret, and compares offered credentials safely.

A secret is refused when it is empty, shorter than ``MIN_SECRET_CHARS``, or looks
like a value copied from an example (``change-me``, ``secret``, ``password``...).
Optional features (the FAQ operator token, WeChat, Open311 and integration keys)
may stay empty, which switches them off; a value that is set must pass the same rules.
"""

import hmac
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.settings import Settings

MIN_SECRET_CHARS = 16
_PLACEHOLDER = re.compile(
    r"change[-_ ]?me|changeme|replace[-_ ]?me|placeholder|example|your[-_ ]|^(secret|password|token|test|default|x+)$",
    re.IGNORECASE,
)


class InsecureSettingsError(ValueError):
    """A secret is missing or is a known placeholder."""


def secret_problem(value: str) -> str | None:
    """Returns why a secret value is unacceptable, or None."""
    if not value or not value.strip():
        return "is empty"
    if _PLACEHOLDER.search(value):
        return "is a placeholder value"
    if len(value) < MIN_SECRET_CHARS:
        return f"is shorter than {MIN_SECRET_CHARS} characters"
    return None


def check_secrets(settings: "Settings") -> None:
    """Raises InsecureSettingsError naming every unacceptable secret of the settings."""
    required = {"RASA_TOKEN": settings.rasa_token, "INTERNAL_API_TOKEN": settings.internal_api_token,
                "SECRET_KEY": settings.secret_key}
    optional: dict[str, str] = {"FAQ__OPERATOR_TOKEN": settings.faq.operator_token}
    if settings.wechat.enabled and settings.wechat.token:
        optional["WECHAT__APP_SECRET"] = settings.wechat.app_secret
    for index, key in enumerate(settings.integration_api_keys):
        required[f"INTEGRATION_API_KEYS[{index}]"] = key
    for index, key in enumerate(settings.complaints.open311_api_keys):
        required[f"COMPLAINTS__OPEN311_API_KEYS[{index}]"] = key
    problems = [f"{name} {problem}" for name, value in required.items() if (problem := secret_problem(value))]
    problems += [f"{name} {problem}" for name, value in optional.items()
                 if value and (problem := secret_problem(value))]
    if problems:
        raise InsecureSettingsError(
            "refusing to start with insecure secrets: " + "; ".join(problems)
            + ". Set them in the environment or .env (`make run` generates local ones under var/)."
        )


def matches_any(offered: str | None, accepted: Iterable[str]) -> bool:
    """True when the offered credential equals one of the accepted non-empty ones (constant time)."""
    if not offered:
        return False
    encoded = offered.encode("utf-8", "surrogatepass")
    found = False
    for candidate in accepted:
        if candidate and hmac.compare_digest(encoded, candidate.encode("utf-8", "surrogatepass")):
            found = True
    return found
