"""Cross-validates the matcher over the question variants: ``python -m faq.crossval [--search]``.

Fold k holds out the k-th question variant of every entry, builds the matcher
from the other variants and ranks the held-out ones. Prints top-1 accuracy with
the weights in ``faq.matcher.WEIGHTS``; with ``--search``, a coordinate search
over the ranking weights from there. The shipped weights are chosen this way;
the held-out sets (``python -m faq.evaluate``) never choose them.
"""

import sys
import time
from dataclasses import replace
from pathlib import Path

from faq.check import read_aspects
from faq.knowledge import FaqEntry, read_sources
from faq.matcher import WEIGHTS, FaqMatcher, Signals, Weights
from faq.settings import FAQ_DIR

SEARCHED = ("service", "aspect", "aspect_model", "entry_model")
STEPS = (0.1, 0.05, 0.02)

Case = tuple[str, dict[str, Signals]]


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
        cases.extend((expected, matcher.signals(question)[2]) for expected, question in held_out)
    return cases


def correct(cases: list[Case], weights: Weights) -> int:
    """How many cases rank their own entry first (ties go to the smaller id, as in ranking)."""
    return sum(min(signals, key=lambda entry_id: (-signals[entry_id].score(weights), entry_id)) == expected
               for expected, signals in cases)


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
