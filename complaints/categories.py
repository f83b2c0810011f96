"""Infers a complaint's category from the citizen's words with weighted keyword rules."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from complaints.enums import ComplaintCategory
from service.texts import text as t

RULES_PATH = Path(__file__).with_name("categories.zh.yml")


@dataclass(frozen=True)
class CategoryGuess:
    """The inferred category, its score and the words that decided it."""

    category: ComplaintCategory
    score: int
    matched: tuple[str, ...]


@lru_cache
def load_rules() -> dict[ComplaintCategory, dict[str, int]]:
    """Reads the keyword weights per category."""
    with RULES_PATH.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return {ComplaintCategory(key): {str(w): int(n) for w, n in (value or {}).items()} for key, value in raw.items()}


def infer_category(words: str) -> CategoryGuess:
    """Returns the best-scoring category, or ``other`` when no rule matches."""
    lowered = words.lower()
    best = CategoryGuess(ComplaintCategory.other, 0, ())
    for category, weights in load_rules().items():
        matched = tuple(word for word in weights if word.lower() in lowered)
        score = sum(weights[word] for word in matched)
        if score > best.score:
            best = CategoryGuess(category, score, matched)
    return best


def category_label(category: ComplaintCategory | str) -> str:
    """Returns the Chinese label of a category."""
    return t("complaints", f"category.{ComplaintCategory(category)}")


def category_from_label(value: str) -> ComplaintCategory | None:
    """Maps an id or a Chinese label (as a citizen may type it) to a category."""
    cleaned = value.strip()
    for category in ComplaintCategory:
        if cleaned in (category.value, category_label(category)):
            return category
    return None
