"""The loaded, checked knowledge base the service answers from, and its hot reload.

A ``KnowledgeBase`` is immutable once built. ``KnowledgeStore`` keeps the
current one (on ``app.state.faq``) and swaps it in one assignment when the
files change, so a request always sees either the old or the new one whole.
A knowledge base that fails ``faq.check`` is never swapped in.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from faq.check import check_sources, read_aspects
from faq.knowledge import CatalogueService, FaqEntry, KnowledgeProblem, fingerprint, read_sources
from faq.matcher import FaqMatcher

logger = logging.getLogger(__name__)


class KnowledgeBaseInvalid(Exception):
    """The knowledge base files have defects; nothing was loaded."""

    def __init__(self, problems: list[KnowledgeProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the FAQ knowledge base")
        self.problems = problems


@dataclass(frozen=True)
class KnowledgeBase:
    """Services, entries and the matcher built over them."""

    root: Path
    services: dict[str, CatalogueService]
    entries: dict[str, FaqEntry]
    matcher: FaqMatcher
    fingerprint: tuple[tuple[str, int, int], ...]
    loaded_at: float = field(default_factory=time.time)


# Recently built bases by (directory, fingerprint): they are immutable, so apps in
# one process (e.g. tests) share them instead of rebuilding the index.
_BUILT: dict[tuple[str, tuple[tuple[str, int, int], ...]], KnowledgeBase] = {}
_BUILT_LIMIT = 4


def load_knowledge_base(root: Path) -> KnowledgeBase:
    """Reads, checks and indexes the knowledge base; raises KnowledgeBaseInvalid on any defect."""
    marks = fingerprint(root)
    key = (str(root.resolve()), marks)
    if key in _BUILT:
        return _BUILT[key]
    sources = read_sources(root)
    problems = check_sources(sources)
    if problems:
        raise KnowledgeBaseInvalid(problems)
    aspects = read_aspects(root, [])
    matcher = FaqMatcher(sources.entries, sources.services, aspects)
    base = KnowledgeBase(root=root, services=dict(sources.services),
                         entries={entry.id: entry for entry in sources.entries},
                         matcher=matcher, fingerprint=marks)
    if len(_BUILT) >= _BUILT_LIMIT:
        _BUILT.pop(next(iter(_BUILT)))
    _BUILT[key] = base
    return base



class KnowledgeStore:
    """Holds the current knowledge base and reloads it when asked or when its files change."""

    def __init__(self, root: Path, check_seconds: float) -> None:
        self.root = root
        self.check_seconds = check_seconds
        self._current: KnowledgeBase | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.last_error: KnowledgeBaseInvalid | None = None
        self._rejected: tuple[tuple[str, int, int], ...] | None = None

    def reload(self) -> KnowledgeBase:
        """Loads the files now and swaps them in; keeps the old base and raises if they are invalid."""
        with self._lock:
            try:
                fresh = load_knowledge_base(self.root)
            except KnowledgeBaseInvalid as exc:
                self.last_error = exc
                raise
            self._current = fresh
            self.last_error = None
            self._checked_at = time.monotonic()
            return fresh

    def current(self) -> KnowledgeBase:
        """The knowledge base to answer from, reloaded first if its files changed."""
        base = self._current
        if base is None:
            return self.reload()
        now = time.monotonic()
        if self.check_seconds and now - self._checked_at >= self.check_seconds:
            self._checked_at = now
            marks = fingerprint(self.root)
            if marks != base.fingerprint and marks != self._rejected:
                try:
                    return self.reload()
                except KnowledgeBaseInvalid as exc:
                    # Keep serving the last good answers until the files change again.
                    self._rejected = marks
                    logger.warning("FAQ files changed but were not reloaded: %s",
                                   "; ".join(map(str, exc.problems[:3])))
        return base
