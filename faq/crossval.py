"""Cross-validates the matcher over the question variants: ``python -m faq.crossval [--search]``.

Fold k holds out the k-th question variant of every entry, builds the matcher
from the other variants and ranks the held-out ones. Prints top-1 accuracy with
the weights in ``faq.matcher.WEIGHTS``; with ``--search``, a coordinate search
over the ranking weights from there. Then what the assistant would do with each
held-out variant (``faq.flows.choose``: answer, clarify, not know) and, for the
lead at which a best entry below the answer threshold is answered
(``FaqSettings.clear_lead``), how often such answers are right next to the
confident ones. The shipped weights and lead are chosen this way; the held-out
sets (``python -m faq.evaluate``) never choose them.
"""

import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from faq.check import read_aspects
from faq.enums import AnswerStatus
from faq.flows import RANKED, choose, is_ambiguous, lead
from faq.knowledge import FaqEntry, read_sources
from faq.matcher import WEIGHTS, FaqMatcher, Ranking, Signals, Weights
from faq.settings import FAQ_DIR, FaqSettings

SEARCHED = ("service", "aspect", "aspect_model", "entry_model")
STEPS = (0.1, 0.05, 0.02)
LEADS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


@dataclass(frozen=True)
class Case:
    """One held-out variant: its entry, every entry's signals, and the ranking with the shipped weights."""

    expected: str
    signals: dict[str, Signals]
    ranking: Ranking


def folds(entries: list[FaqEntry]) -> list[tuple[list[FaqEntry], list[tuple[str, str]]]]:
    """(training entries, held-out (entry id, question)) per fold."""
    result = []
    for k in range(max(len(entry.questions) for entry in entries)):
        training = [replace(entry, questions=entry.questions[:k] + entry.questions[k + 1:])
                    if k < len(entry.questions) else entry for entry in entries]
        held_out = [(entry.id, entry.questions[k]) for entry in entries if k < len(entry.questions)]
        result.append((training, held_out))
    return result


def collect(root: Path) -> list[Case]:
    """Every held-out variant with every entry's signals, from a matcher that never saw it."""
    sources = read_sources(root)
    aspects = read_aspects(root, [])
    cases: list[Case] = []
    for training, held_out in folds(sources.entries):
        matcher = FaqMatcher(training, sources.services, aspects)
        for expected, question in held_out:
            reading, context, signals = matcher.signals(question)
            cases.append(Case(expected, signals, matcher.ranking(reading, context, signals, RANKED)))
    return cases


def correct(cases: list[Case], weights: Weights) -> int:
    """How many cases rank their own entry first (ties go to the smaller id, as in ranking)."""
    return sum(min(case.signals, key=lambda entry_id: (-case.signals[entry_id].score(weights), entry_id))
               == case.expected for case in cases)


def decisions(cases: list[Case], service_of: dict[str, str], settings: FaqSettings) -> None:
    """Prints what the assistant would do with the cases, and the precision of answers by lead."""
    outcomes: Counter[str] = Counter()
    for case in cases:
        choice = choose(case.ranking, service_of, settings)
        if choice.status == AnswerStatus.answered:
            outcomes["answered right" if choice.entries[0].entry_id == case.expected else "answered WRONG"] += 1
        elif choice.status == AnswerStatus.clarify:
            offered = any(c.entry_id == case.expected for c in choice.entries)
            outcomes["clarify, right entry offered" if offered else "clarify, right entry missing"] += 1
        else:
            outcomes["unknown"] += 1
    print(f"decisions with {settings.model_dump(include={'answer_threshold', 'clarify_threshold', 'clear_lead'})}:")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome:32s} {count:4d}  ({count / len(cases):.1%})")
    confident = [case for case in cases if case.ranking.best
                 and case.ranking.best.confidence >= settings.answer_threshold
                 and not is_ambiguous(case.ranking, service_of, settings.ambiguity_margin)]
    unsure = [case for case in cases if case.ranking.best and case not in confident
              and case.ranking.best.confidence >= settings.clarify_threshold
              and all(c.confidence < case.ranking.best.confidence for c in case.ranking.candidates[1:])]

    def right(group: list[Case]) -> int:
        return sum(case.ranking.best is not None and case.ranking.best.entry_id == case.expected for case in group)

    share = right(confident) / len(confident) if confident else 0.0
    print(f"confident answers right: {share:.1%} ({right(confident)}/{len(confident)}); "
          f"below the answer threshold, worth offering and the most direct evidence, answered at a lead of "
          f"at least:")
    chosen = None
    for value in LEADS:
        group = [case for case in unsure if lead(case.ranking) >= value]
        precision = right(group) / len(group) if group else 0.0
        if group and precision >= share:
            chosen = value if chosen is None else chosen
        else:
            chosen = None
        print(f"  {value:.2f}: {precision:.1%} right ({right(group)}/{len(group)})")
    print(f"smallest lead from which on answers are as reliable as confident ones (FaqSettings.clear_lead): {chosen}")


def search(cases: list[Case], weights: Weights) -> tuple[Weights, int]:
    """Coordinate search over the ranking weights; a carried-over service weighs as much as a named one."""
    best = correct(cases, weights)
    for step in STEPS:
        improved = True
        while improved:
            improved = False
            for name in SEARCHED:
                for delta in (step, -step):
                    value = round(max(0.0, getattr(weights, name) + delta), 3)
                    trial = replace(weights, **{name: value})
                    if name == "service":
                        trial = replace(trial, context=value)
                    count = correct(cases, trial)
                    if count > best:
                        weights, best, improved = trial, count, True
    return weights, best


def main(argv: list[str] | None = None) -> int:
    """Prints leave-one-variant-out accuracy, and the searched weights when asked."""
    args = sys.argv[1:] if argv is None else argv
    paths = [arg for arg in args if not arg.startswith("--")]
    root = Path(paths[0]) if paths else FAQ_DIR
    started = time.perf_counter()
    cases = collect(root)
    count = correct(cases, WEIGHTS)
    print(f"leave-one-variant-out top-1: {count / len(cases):.2%} ({count}/{len(cases)}) with {WEIGHTS}; "
          f"{time.perf_counter() - started:.0f}s")
    if "--search" in args:
        weights, count = search(cases, WEIGHTS)
        print(f"searched: {count / len(cases):.2%} ({count}/{len(cases)}) with {weights}")
    service_of = {entry.id: entry.service for entry in read_sources(root).entries}
    decisions(cases, service_of, FaqSettings())
    return 0


if __name__ == "__main__":
    sys.exit(main())
