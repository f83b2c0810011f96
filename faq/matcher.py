"""Finds the FAQ entry a citizen's question is about.

Signals combined into one score per entry:
- similarity: TF-IDF over character 1-3 grams and jieba words (with the
  government-service dictionary in ``bot/jieba/``), cosine against every
  question variant of the entry (best variant) and against the entry's centroid;
- service: the catalogue service the text names (longest alias wins over the
  aliases it contains), or, when it names none, the service of the conversation
  (context carry-over: "那要多少钱" after a passport question); a qualifier such
  as 外地户口 (who the citizen is) names nothing, nor the aliases inside it. A three-character
  alias typed with its middle character wrong (社宝卡, 公基金: a pinyin
  keyboard's homophone) is read as the alias, where no alias covers those
  characters and the first and last characters pin down a single alias;
- aspect: what the citizen wants to know (materials, fee, time ...), from the
  words in ``faq/aspects.yml`` found outside the service's name;
- aspect model: a naive Bayes over the question variants with the service's
  name taken out, pooled across services, so "多少个工作日" learnt from one
  service's time questions counts for every service;
- entry model: an averaged perceptron over the question variants, which learns
  the words that tell an entry from its neighbours.

The weights are chosen by leave-one-variant-out cross-validation over the
question variants (``python -m faq.crossval``), never on the held-out sets.
"""

import logging
import math
import random
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
# Phone, ID and card numbers say nothing about the question (their digits would match "80岁", "800元").
LONG_NUMBER = re.compile(r"\d{5,}[xX]?")
NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
NGRAM_SIZES = (1, 2, 3)
BEST_VARIANT_SHARE = 0.6
# Aliases of exactly this length, naming a certificate, card or fund (the nouns citizens
# most often mistype), are recognised with their middle character mistyped ...
TYPO_ALIAS_LENGTH = 3
TYPO_ALIAS_ENDINGS = frozenset("证卡金")
# ... unless the typed word is a common word of its own (准生证 is not 准迁证).
TYPO_COMMON_WORD_FREQUENCY = 100
CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Weights:
    """How much each signal adds to the similarity (which counts once)."""

    # Ranking: which entry is meant.
    service: float = 0.85
    context: float = 0.85
    aspect: float = 0.15
    aspect_model: float = 0.4
    entry_model: float = 0.5
    # Softmax temperature turning the perceptron's scores into shares.
    temperature: float = 0.3
    # Confidence: whether the question is about that entry at all. The learned models
    # only share out what the text already points at, so confidence is direct evidence
    # alone; FaqSettings' thresholds are in its units.
    confidence_service: float = 0.30
    confidence_context: float = 0.40
    confidence_aspect: float = 0.12


WEIGHTS = Weights()
PERCEPTRON_EPOCHS = 8
PERCEPTRON_MARGIN = 3.0
PERCEPTRON_SEED = 13
NAIVE_BAYES_ALPHA = 0.1

Vector = dict[str, float]


@lru_cache(maxsize=1)
def word_tokenizer() -> jieba.Tokenizer:
    """A jieba tokenizer with the government-service dictionary, built once per process."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    if JIEBA_DICTIONARY.exists():
        tokenizer.load_userdict(str(JIEBA_DICTIONARY))
    return tokenizer


def clean_text(text: str) -> str:
    """Normalised text without URLs, long numbers, punctuation or emoji; words separated by single spaces."""
    normalized = normalize_text(text or "").lower()
    return NOT_WORD.sub(" ", LONG_NUMBER.sub(" ", URL.sub(" ", normalized))).strip()


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


def softmax(scores: dict[str, float], temperature: float) -> dict[str, float]:
    """Scores turned into shares that sum to one."""
    if not scores:
        return {}
    top = max(scores.values())
    exponents = {key: math.exp((value - top) / temperature) for key, value in scores.items()}
    total = sum(exponents.values())
    return {key: value / total for key, value in exponents.items()}


def _longest_matches(text: str, table: list[tuple[str, str]]) -> list[tuple[str, str, int, int]]:
    """(word, label, start, end) of the table's words in the text; a word inside a longer match does not count."""
    taken: list[tuple[str, str, int, int]] = []
    for word, label in table:
        start = text.find(word)
        while start != -1:
            end = start + len(word)
            if not any(s <= start and end <= e for _, _, s, e in taken):
                taken.append((word, label, start, end))
            start = text.find(word, start + 1)
    return taken


@dataclass(frozen=True)
class Candidate:
    """One entry's score for a question, with the signals behind it."""

    entry_id: str
    # Ranks the entries.
    score: float
    # Decides between answering, asking and not knowing.
    confidence: float
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


@dataclass(frozen=True)
class Reading:
    """A question as the matcher reads it."""

    cleaned: str
    named_services: tuple[str, ...]
    # The text with the services' names blanked out: what is asked about them.
    asked: str
    aspects: tuple[str, ...]
    # Features of the similarity; the learned models' are the same plus one per aspect found.
    counts: Counter[str]
    features: frozenset[str]
    asked_features: frozenset[str]


@dataclass(frozen=True)
class Signals:
    """Every signal of one entry for one question; ``score`` combines them."""

    similarity: float
    service: bool
    context: bool
    aspect: bool
    aspect_model: float
    entry_model: float

    def score(self, weights: Weights) -> float:
        """The ranking score."""
        return (self.similarity + weights.service * self.service + weights.context * self.context
                + weights.aspect * self.aspect + weights.aspect_model * self.aspect_model
                + weights.entry_model * self.entry_model)

    def confidence(self, weights: Weights) -> float:
        """How directly the text points at the entry."""
        return (self.similarity + weights.confidence_service * self.service
                + weights.confidence_context * self.context + weights.confidence_aspect * self.aspect)


class SimilarityIndex:
    """TF-IDF vectors of question variants, searchable through an inverted index."""

    def __init__(self, counted: list[tuple[str, Counter[str]]]) -> None:
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

    def similarities(self, counts: Counter[str]) -> dict[str, float]:
        """Per entry: a mix of the best variant's cosine and the cosine with the entry's centroid."""
        query = self.weigh(counts)
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


class NaiveBayes:
    """Multinomial naive Bayes over sets of features, scored through an inverted index."""

    def __init__(self, documents: list[tuple[str, frozenset[str]]], alpha: float = NAIVE_BAYES_ALPHA) -> None:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        totals: Counter[str] = Counter()
        for label, found in documents:
            counts[label].update(found)
            totals[label] += len(found)
        self.vocabulary = {key for label_counts in counts.values() for key in label_counts}
        size = len(self.vocabulary)
        # log P(feature | label) = base[label] + gain of the feature when the label has seen it.
        self.base = {label: math.log(alpha / (totals[label] + alpha * size)) for label in counts}
        self.gains: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for label, label_counts in counts.items():
            for key, count in label_counts.items():
                self.gains[key].append((label, math.log((count + alpha) / alpha)))

    def shares(self, found: frozenset[str]) -> dict[str, float]:
        """P(label | features), flattened by the square root of the feature count (they are not independent)."""
        known = [key for key in found if key in self.vocabulary]
        if not known:
            return {}
        scores = {label: len(known) * base for label, base in self.base.items()}
        for key in known:
            for label, gain in self.gains[key]:
                scores[label] += gain
        return softmax(scores, math.sqrt(len(known)))


class Perceptron:
    """Averaged multi-class perceptron with a margin, over sets of features."""

    def __init__(self, documents: list[tuple[str, frozenset[str]]], epochs: int = PERCEPTRON_EPOCHS,
                 margin: float = PERCEPTRON_MARGIN, seed: int = PERCEPTRON_SEED) -> None:
        self.labels = sorted({label for label, _ in documents})
        weights: dict[str, dict[str, float]] = {}
        # Sum of each weight's updates times the step they happened at, for the average.
        timed: dict[str, dict[str, float]] = {}
        data = [(label, sorted(found), 1 / math.sqrt(len(found))) for label, found in documents if found]
        shuffle = random.Random(seed).shuffle
        step = 1
        for _ in range(epochs):
            shuffle(data)
            for label, found, value in data:
                scores = self._scores(weights, found, value)
                rival = max((other for other in scores if other != label), key=scores.__getitem__, default=None)
                if rival is None:
                    rival = next(other for other in self.labels if other != label)
                if scores.get(label, 0.0) - scores.get(rival, 0.0) < margin:
                    for key in found:
                        row, timed_row = weights.setdefault(key, {}), timed.setdefault(key, {})
                        for target, sign in ((label, value), (rival, -value)):
                            row[target] = row.get(target, 0.0) + sign
                            timed_row[target] = timed_row.get(target, 0.0) + step * sign
                step += 1
        self.weights = {key: {label: weight - timed[key][label] / step for label, weight in row.items()}
                        for key, row in weights.items()}

    @staticmethod
    def _scores(weights: dict[str, dict[str, float]], found: Iterable[str], value: float) -> dict[str, float]:
        """Label scores of features that each weigh ``value``; labels without weight are left out."""
        sums: defaultdict[str, float] = defaultdict(float)
        for key in found:
            row = weights.get(key)
            if row:
                for label, weight in row.items():
                    sums[label] += weight
        return {label: total * value for label, total in sums.items()}

    def scores(self, found: frozenset[str]) -> dict[str, float]:
        """Every label's score; empty when no feature is known."""
        known = [key for key in found if key in self.weights]
        if not known:
            return {}
        return dict.fromkeys(self.labels, 0.0) | self._scores(self.weights, known, 1 / math.sqrt(len(known)))


@lru_cache(maxsize=8)
def _trained_perceptron(documents: tuple[tuple[str, frozenset[str]], ...]) -> Perceptron:
    """The entry model for these documents; knowledge bases with the same questions share it."""
    return Perceptron(list(documents))


class FaqMatcher:
    """Ranks FAQ entries for a question; built once per knowledge base."""

    def __init__(self, entries: Iterable[FaqEntry], services: dict[str, CatalogueService],
                 aspect_words: dict[str, list[str]], weights: Weights = WEIGHTS) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self.weights = weights
        self.aspect_names = tuple(aspect_words)
        self.aspect_table = sorted(((normalize_text(word).lower(), aspect) for aspect, words in aspect_words.items()
                                    for word in words if word.strip()), key=lambda pair: -len(pair[0]))
        self.aliases = self._alias_table(services)
        self.keyword_groups = [(tuple(clean_text(word).replace(" ", "") for word in group), service.id)
                               for service in services.values() for group in service.keywords]
        self.typo_aliases = self._typo_table([*self.aliases, *((word, service_id) for words, service_id
                                                              in self.keyword_groups for word in words)])
        self.qualifiers = sorted({clean_text(phrase).replace(" ", "") for service in services.values()
                                  for phrase in service.qualifiers} - {""}, key=lambda phrase: -len(phrase))
        self.services_of: dict[str, list[str]] = defaultdict(list)
        for entry in self.entries.values():
            self.services_of[entry.service].append(entry.id)
        readings = [(entry, self.read(question)) for entry in self.entries.values() for question in entry.questions]
        self.index = SimilarityIndex([(entry.id, reading.counts) for entry, reading in readings])
        self.aspect_model = NaiveBayes([(entry.aspect, reading.asked_features) for entry, reading in readings])
        self.entry_model = _trained_perceptron(tuple((entry.id, reading.features) for entry, reading in readings))

    @staticmethod
    def _alias_table(services: dict[str, CatalogueService]) -> list[tuple[str, str]]:
        """(alias, service id) pairs, longest alias first."""
        pairs = {(clean_text(alias).replace(" ", ""), service.id)
                 for service in services.values() for alias in (*service.aliases, service.name)}
        return sorted((pair for pair in pairs if pair[0]), key=lambda pair: -len(pair[0]))

    @staticmethod
    def _typo_table(aliases: list[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        """Three-character CJK aliases (and word-group words) of certificates, cards and funds by their first
        and last character."""
        table: dict[tuple[str, str], set[str]] = defaultdict(set)
        for alias, _ in aliases:
            if len(alias) == TYPO_ALIAS_LENGTH and alias[-1] in TYPO_ALIAS_ENDINGS \
                    and all(CJK.match(char) for char in alias):
                table[(alias[0], alias[-1])].add(alias)
        return table

    def correct_typos(self, cleaned: str) -> str:
        """The text with mistyped three-character aliases (one wrong middle character) spelt right.

        A window is corrected only when no alias covers any of its characters,
        exactly one alias has its first and last character, and it is not a common
        word of its own.
        """
        if not self.typo_aliases:
            return cleaned
        frequency = word_tokenizer().FREQ
        covered = [False] * len(cleaned)
        for alias, _ in self.aliases:
            start = cleaned.find(alias)
            while start != -1:
                covered[start:start + len(alias)] = [True] * len(alias)
                start = cleaned.find(alias, start + 1)
        corrected = list(cleaned)
        size = TYPO_ALIAS_LENGTH
        for start in range(len(cleaned) - size + 1):
            window = cleaned[start:start + size]
            if any(covered[start:start + size]) or not all(CJK.match(char) for char in window):
                continue
            found = self.typo_aliases.get((window[0], window[-1]))
            if found and len(found) == 1 and (frequency.get(window) or 0) < TYPO_COMMON_WORD_FREQUENCY:
                alias = next(iter(found))
                corrected[start:start + size] = list(alias)
                covered[start:start + size] = [True] * size
        return "".join(corrected)

    def service_spans(self, compact: str) -> tuple[tuple[str, ...], list[tuple[int, int]]]:
        """Services the text names, and where; an alias inside a longer matched one does not count."""
        taken: list[tuple[int, int]] = []
        found: list[str] = []
        # A qualifier's place is taken first and names nothing.
        blocked: list[tuple[int, int]] = []
        for phrase in self.qualifiers:
            start = compact.find(phrase)
            while start != -1:
                if not any(s <= start and start + len(phrase) <= e for s, e in blocked):
                    blocked.append((start, start + len(phrase)))
                start = compact.find(phrase, start + 1)
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
                if not any(s <= start and end <= e for s, e in (*taken, *blocked)):
                    taken.append((start, end))
                    if service_id not in found:
                        found.append(service_id)
                start = compact.find(alias, start + 1)
        return tuple(found), taken

    def aspects(self, asked: str) -> tuple[str, ...]:
        """Aspects whose words appear in the text, the longest word winning where words overlap."""
        found = {aspect for _, aspect, _, _ in _longest_matches(asked, self.aspect_table)}
        return tuple(aspect for aspect in self.aspect_names if aspect in found)

    def read(self, text: str) -> Reading:
        """Cleans the text and finds the services it names and the aspects it asks about."""
        cleaned = self.correct_typos(clean_text(text))
        compact = cleaned.replace(" ", "")
        named, spans = self.service_spans(compact)
        blanked = list(compact)
        for start, end in spans:
            blanked[start:end] = " " * (end - start)
        asked = " ".join("".join(blanked).split())
        aspects = self.aspects(asked.replace(" ", ""))
        marks = {"a:" + aspect for aspect in aspects}
        counts = features(cleaned)
        return Reading(cleaned, named, asked, aspects, counts, frozenset(counts) | marks,
                       frozenset(features(asked)) | marks)

    def signals(self, text: str, current_service: str | None = None) -> tuple[Reading, str | None,
                                                                             dict[str, Signals]]:
        """The reading, the context service used, and every entry's signals."""
        reading = self.read(text)
        named = reading.named_services
        context = current_service if not named and current_service in self.services_of else None
        similarities = self.index.similarities(reading.counts)
        aspect_shares = self.aspect_model.shares(reading.asked_features)
        entry_shares = softmax(self.entry_model.scores(reading.features), self.weights.temperature)
        signals = {}
        for entry_id, entry in self.entries.items():
            signals[entry_id] = Signals(
                similarity=similarities.get(entry_id, 0.0), service=entry.service in named,
                context=entry.service == context,
                aspect=any(aspect in reading.aspects for aspect in entry.aspects),
                aspect_model=max(aspect_shares.get(aspect, 0.0) for aspect in entry.aspects),
                entry_model=entry_shares.get(entry_id, 0.0))
        return reading, context, signals

    def rank(self, text: str, current_service: str | None = None, limit: int = 5) -> Ranking:
        """Scores every entry for the text and returns the best ones."""
        reading, context, signals = self.signals(text, current_service)
        return self.ranking(reading, context, signals, limit)

    def ranking(self, reading: Reading, context: str | None, signals: dict[str, Signals],
                limit: int = 5) -> Ranking:
        """The best entries by the combined signals (what ``rank`` returns)."""
        candidates = [Candidate(entry_id, round(signal.score(self.weights), 4),
                                round(signal.confidence(self.weights), 4), round(signal.similarity, 4),
                                signal.service or signal.context, signal.aspect)
                      for entry_id, signal in signals.items()
                      if signal.similarity > 0 or signal.service or signal.context]
        candidates.sort(key=lambda c: (-c.score, c.entry_id))
        return Ranking(reading.cleaned, reading.named_services, context, reading.aspects,
                       tuple(candidates[:limit]))
