"""Finds the FAQ entry a citizen's question is about.

Three signals are combined into one score per entry:
- similarity: TF-IDF over character 1-3 grams and jieba words (with the
  government-service dictionary in ``bot/jieba/``), cosine against every
  question variant of the entry (best variant) and against the entry's centroid;
- service: the catalogue service the text names (longest alias wins over the
  aliases it contains), or, when it names none, the service of the conversation
  (context carry-over: "那要多少钱" after a passport question);
- aspect: what the citizen wants to know (materials, fee, time ...), from
  ``faq/aspects.yml``.
"""

import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba

from bot.components.normalization import normalize_text
from faq.knowledge import CatalogueService, FaqEntry

PROJECT_ROOT = Path(__file__).resolve().parent.parent
JIEBA_DICTIONARY = PROJECT_ROOT / "bot" / "jieba" / "gov_terms.txt"
URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
NGRAM_SIZES = (1, 2, 3)
# Weights of the signals; measured with `python -m faq.evaluate`.
SERVICE_WEIGHT = 0.30
CONTEXT_WEIGHT = 0.40
ASPECT_WEIGHT = 0.12
BEST_VARIANT_SHARE = 0.6

Vector = dict[str, float]


@lru_cache(maxsize=1)
def word_tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer with the government-service dictionary, built once per process."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    if JIEBA_DICTIONARY.exists():
        tokenizer.load_userdict(str(JIEBA_DICTIONARY))
    return tokenizer


def clean_text(text: str) -> str:
    """Normalised text without URLs, punctuation or emoji; words separated by single spaces."""
    normalized = normalize_text(text or "").lower()
    return NOT_WORD.sub(" ", URL.sub(" ", normalized)).strip()


def features(cleaned: str) -> Counter[str]:
    """Character n-grams and dictionary words of cleaned text."""
    counts: Counter[str] = Counter()
    for chunk in cleaned.split():
        for size in NGRAM_SIZES:
            counts.update(chunk[i:i + size] for i in range(len(chunk) - size + 1))
    for word in word_tokenizer().lcut(cleaned.replace(" ", "")):
        if len(word) > 1:
            counts["w:" + word] += 1
    return counts


def _normalized(vector: Vector) -> Vector:
    """Scales a vector to unit length."""
    norm = math.sqrt(sum(value * value for value in vector.values()))
    return {key: value / norm for key, value in vector.items()} if norm else {}


def _dot(left: Vector, right: Vector) -> float:
    """Dot product of two sparse vectors."""
    if len(left) > len(right):
        left, right = right, left
    return sum(value * right.get(key, 0.0) for key, value in left.items())


@dataclass(frozen=True)
class Candidate:
    """One entry's score for a question, with the signals behind it."""

    entry_id: str
    score: float
    similarity: float
    service_match: bool
    aspect_match: bool


@dataclass(frozen=True)
class Ranking:
    """What the matcher understood from a question, best entries first."""

    cleaned: str
    named_services: tuple[str, ...]
    context_service: str | None
    aspects: tuple[str, ...]
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate | None:
        """The top candidate, if any."""
        return self.candidates[0] if self.candidates else None


class SimilarityIndex:
    """TF-IDF vectors of question variants, searchable through an inverted index."""

    def __init__(self, variants: list[tuple[str, str]]) -> None:
        counted = [(entry_id, features(text)) for entry_id, text in variants]
        document_frequency: Counter[str] = Counter()
        for _, counts in counted:
            document_frequency.update(counts.keys())
        total = len(counted)
        self.idf = {key: math.log((total + 1) / (df + 1)) + 1.0 for key, df in document_frequency.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.variant_entry: list[str] = []
        centroids: dict[str, Vector] = defaultdict(dict)
        for index, (entry_id, counts) in enumerate(counted):
            vector = self.weigh(counts)
            self.variant_entry.append(entry_id)
            for key, value in vector.items():
                self.postings[key].append((index, value))
                centroids[entry_id][key] = centroids[entry_id].get(key, 0.0) + value
        self.centroids = {entry_id: _normalized(vector) for entry_id, vector in centroids.items()}

    def weigh(self, counts: Counter[str]) -> Vector:
        """TF-IDF weights (sublinear term frequency), unit length; unseen features are dropped."""
        return _normalized({key: (1.0 + math.log(count)) * self.idf[key]
                            for key, count in counts.items() if key in self.idf})

    def similarities(self, text: str) -> dict[str, float]:
        """Per entry: a mix of the best variant's cosine and the cosine with the entry's centroid."""
        query = self.weigh(features(text)) if text.strip() else {}
        variant_scores: dict[int, float] = defaultdict(float)
        for key, weight in query.items():
            for index, value in self.postings.get(key, ()):
                variant_scores[index] += weight * value
        best_variant: dict[str, float] = defaultdict(float)
        for index, value in variant_scores.items():
            entry_id = self.variant_entry[index]
            best_variant[entry_id] = max(best_variant[entry_id], value)
        return {entry_id: BEST_VARIANT_SHARE * best_variant.get(entry_id, 0.0)
                + (1 - BEST_VARIANT_SHARE) * _dot(query, centroid)
                for entry_id, centroid in self.centroids.items()}


class FaqMatcher:
    """Ranks FAQ entries for a question; built once per knowledge base."""

    def __init__(self, entries: Iterable[FaqEntry], services: dict[str, CatalogueService],
                 aspect_words: dict[str, list[str]]) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self.aspect_words = {aspect: [normalize_text(w).lower() for w in words]
                             for aspect, words in aspect_words.items()}
        self.aliases = self._alias_table(services)
        self.keyword_groups = [(tuple(clean_text(word).replace(" ", "") for word in group), service.id)
                               for service in services.values() for group in service.keywords]
        cleaned = [(entry.id, clean_text(q)) for entry in self.entries.values() for q in entry.questions]
        self.index = SimilarityIndex(cleaned)

    @staticmethod
    def _alias_table(services: dict[str, CatalogueService]) -> list[tuple[str, str]]:
        """(alias, service id) pairs, longest alias first."""
        pairs = {(clean_text(alias).replace(" ", ""), service.id)
                 for service in services.values() for alias in (*service.aliases, service.name)}
        return sorted((pair for pair in pairs if pair[0]), key=lambda pair: -len(pair[0]))

    def named_services(self, compact: str) -> tuple[str, ...]:
        """Services the text names; an alias inside a longer matched one does not count."""
        taken: list[tuple[int, int]] = []
        found: list[str] = []
        # A word group outranks any single alias: its first word's place is taken first.
        for words, service_id in self.keyword_groups:
            if all(word and word in compact for word in words):
                start = compact.find(words[0])
                taken.append((start, start + len(words[0])))
                if service_id not in found:
                    found.append(service_id)
        for alias, service_id in self.aliases:
            start = compact.find(alias)
            while start != -1:
                end = start + len(alias)
                if not any(s <= start and end <= e for s, e in taken):
                    taken.append((start, end))
                    if service_id not in found:
                        found.append(service_id)
                start = compact.find(alias, start + 1)
        return tuple(found)

    def aspects(self, compact: str) -> tuple[str, ...]:
        """Aspects whose words appear in the text."""
        return tuple(aspect for aspect, words in self.aspect_words.items()
                     if any(word in compact for word in words))

    def rank(self, text: str, current_service: str | None = None, limit: int = 5) -> Ranking:
        """Scores every entry for the text and returns the best ones."""
        cleaned = clean_text(text)
        compact = cleaned.replace(" ", "")
        named = self.named_services(compact)
        context = current_service if not named and current_service in {e.service for e in
                                                                         self.entries.values()} else None
        aspects = self.aspects(compact)
        similarities = self.index.similarities(cleaned) if cleaned else {}
        candidates = []
        for entry_id, entry in self.entries.items():
            similarity = similarities.get(entry_id, 0.0)
            service_match = entry.service in named or entry.service == context
            aspect_match = any(aspect in aspects for aspect in entry.aspects)
            if similarity <= 0 and not service_match:
                continue
            score = similarity
            if service_match:
                score += SERVICE_WEIGHT if entry.service in named else CONTEXT_WEIGHT
            if aspect_match:
                score += ASPECT_WEIGHT
            candidates.append(Candidate(entry_id, round(score, 4), round(similarity, 4),
                                        service_match, aspect_match))
        candidates.sort(key=lambda c: (-c.score, c.entry_id))
        return Ranking(cleaned, named, context, aspects, tuple(candidates[:limit]))
