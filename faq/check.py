"""Validates the FAQ knowledge base: ``python -m faq.check [knowledge_dir]``.

Exits 1 with one precise line per defect: a template field the catalogue does
not have, a service without a required field, a question variant in two
entries, two entries whose questions are too similar to tell apart, and the
like. The service refuses to load (or reload) a knowledge base that fails.
"""

import math
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from faq.knowledge import MIN_QUESTIONS, KnowledgeProblem, KnowledgeSources, read_sources
from faq.matcher import clean_text, features
from faq.render import TemplateFieldError, field_value, stray_braces, template_fields
from faq.settings import FAQ_DIR

# Cosine between two entries' question centroids above which the matcher cannot tell them apart.
SIMILAR_ENTRIES = 0.92


def aspects_path(root: Path) -> Path:
    """The aspect-words file of a knowledge base directory."""
    return root / "aspects.yml"


def read_aspects(root: Path, problems: list[KnowledgeProblem]) -> dict[str, list[str]]:
    """Reads the aspect words, reporting a malformed file."""
    path = aspects_path(root)
    try:
        with path.open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle) or {}
    except (OSError, yaml.YAMLError) as exc:
        problems.append(KnowledgeProblem(path.name, f"cannot be read: {exc}"))
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, list) for v in raw.values()):
        problems.append(KnowledgeProblem(path.name, "must map each aspect to a list of words"))
        return {}
    return {str(aspect): [str(word) for word in words] for aspect, words in raw.items()}


def _check_entries(sources: KnowledgeSources, aspects: dict[str, list[str]],
                   problems: list[KnowledgeProblem]) -> None:
    """Checks each entry against the catalogue: service, template fields, variants."""
    seen_ids: dict[str, str] = {}
    for entry in sources.entries:
        where = f"{entry.source}: entry '{entry.id}'"
        if entry.id in seen_ids:
            problems.append(KnowledgeProblem(where, f"id already used in {seen_ids[entry.id]}"))
        seen_ids[entry.id] = entry.source
        for aspect in entry.aspects:
            if aspects and aspect not in aspects and aspect != "other":
                problems.append(KnowledgeProblem(where, f"aspect '{aspect}' is not in aspects.yml"))
        if len(set(entry.questions)) < MIN_QUESTIONS:
            problems.append(KnowledgeProblem(
                where, f"has {len(set(entry.questions))} distinct questions, needs at least {MIN_QUESTIONS}"))
        if stray_braces(entry.answer):
            problems.append(KnowledgeProblem(where, "answer has a brace that is not a {field} placeholder"))
        service = sources.services.get(entry.service)
        if service is None:
            problems.append(KnowledgeProblem(where, f"service '{entry.service}' is not in the catalogue"))
            continue
        for name in template_fields(entry.answer):
            try:
                field_value(service, name)
            except TemplateFieldError:
                problems.append(KnowledgeProblem(
                    where, f"template variable {{{name}}} is missing from catalogue service '{service.id}'"))


def _check_variants(sources: KnowledgeSources, problems: list[KnowledgeProblem]) -> None:
    """Finds a question variant used by two entries (compared after normalisation)."""
    owners: dict[str, list[str]] = defaultdict(list)
    for entry in sources.entries:
        for question in set(entry.questions):
            key = clean_text(question).replace(" ", "")
            if entry.id not in owners[key]:
                owners[key].append(entry.id)
    for key, entry_ids in sorted(owners.items()):
        if len(entry_ids) > 1:
            problems.append(KnowledgeProblem(
                "entries", f"question variant '{key}' appears in entries {', '.join(entry_ids)}"))


def _centroid(questions: tuple[str, ...]) -> dict[str, float]:
    """Unit-length average of the questions' n-gram counts."""
    total: dict[str, float] = defaultdict(float)
    for question in questions:
        counts = features(clean_text(question))
        norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
        for key, value in counts.items():
            total[key] += value / norm
    norm = math.sqrt(sum(v * v for v in total.values())) or 1.0
    return {key: value / norm for key, value in total.items()}


def entry_similarities(sources: KnowledgeSources) -> list[tuple[float, str, str]]:
    """Pairs of entries with the cosine of their question centroids, most similar first."""
    centroids = [(entry.id, _centroid(entry.questions)) for entry in sources.entries]
    pairs = []
    for i, (left_id, left) in enumerate(centroids):
        for right_id, right in centroids[i + 1:]:
            if left_id != right_id:
                pairs.append((sum(v * right.get(k, 0.0) for k, v in left.items()), left_id, right_id))
    return sorted(pairs, reverse=True)


def _check_similar_entries(sources: KnowledgeSources, problems: list[KnowledgeProblem]) -> None:
    """Reports two entries whose questions are too alike for the matcher to tell apart."""
    for similarity, left_id, right_id in entry_similarities(sources):
        if similarity < SIMILAR_ENTRIES:
            break
        problems.append(KnowledgeProblem(
            "entries", f"entries '{left_id}' and '{right_id}' have questions too similar to tell apart "
                       f"(similarity {similarity:.2f} >= {SIMILAR_ENTRIES:.2f}); merge them or reword"))


def check_sources(sources: KnowledgeSources) -> list[KnowledgeProblem]:
    """Every defect of a knowledge base, reading problems first."""
    problems = list(sources.problems)
    aspects = read_aspects(sources.root, problems)
    if not sources.services:
        problems.append(KnowledgeProblem("catalogue.yml", "no usable service"))
    if not sources.entries:
        problems.append(KnowledgeProblem("entries", "no usable entry"))
    _check_entries(sources, aspects, problems)
    _check_variants(sources, problems)
    _check_similar_entries(sources, problems)
    return problems


def check_directory(root: Path) -> list[KnowledgeProblem]:
    """Reads and checks the knowledge base in a directory."""
    return check_sources(read_sources(root))


def main(argv: list[str] | None = None) -> int:
    """Prints the problems and returns the exit status."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else FAQ_DIR
    sources = read_sources(root)
    problems = check_sources(sources)
    for problem in problems:
        print(f"ERROR {problem}")
    if problems:
        print(f"faq-check: {len(problems)} problem(s) in {root}")
        return 1
    questions = sum(len(entry.questions) for entry in sources.entries)
    print(f"faq-check: OK - {len(sources.services)} services, {len(sources.entries)} entries, "
          f"{questions} question variants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
