"""Loads the Chinese texts a domain shows to citizens and agents from its `texts.zh.yml`."""

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@lru_cache
def load_texts(domain: str) -> dict[str, Any]:
    """Returns the text table of a domain package, e.g. ``load_texts("conversations")``."""
    path = PROJECT_ROOT / domain.replace(".", "/") / "texts.zh.yml"
    with path.open(encoding="utf-8") as handle:
        texts: dict[str, Any] = yaml.safe_load(handle) or {}
    return texts


def text(domain: str, key: str, **values: Any) -> str:
    """Returns one text of a domain, with ``{placeholders}`` filled from values."""
    template = str(load_texts(domain)[key])
    return template.format(**values) if values else template
