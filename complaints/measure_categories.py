"""Prints how well the keyword rules infer categories on labelled samples: python -m complaints.measure_categories."""

from collections import Counter
from pathlib import Path

import yaml

from complaints.categories import infer_category

SAMPLES_PATH = Path(__file__).with_name("category_samples.zh.yml")


def measure() -> tuple[int, int, Counter[str]]:
    """Returns (correct, total, misses per expected category)."""
    samples = yaml.safe_load(SAMPLES_PATH.read_text(encoding="utf-8"))
    correct, total, misses = 0, 0, Counter[str]()
    for expected, texts in samples.items():
        for words in texts:
            total += 1
            if infer_category(words).category == expected:
                correct += 1
            else:
                misses[expected] += 1
    return correct, total, misses


if __name__ == "__main__":
    hits, count, missed = measure()
    print(f"category inference accuracy: {hits}/{count} = {hits / count:.1%}")
    for category, n in missed.most_common():
        print(f"  missed {n} of {category}")
