"""Reads the FAQ service catalogue (faq/catalogue.yml) as plain YAML: names, aliases, materials, opening hours.

The catalogue's ``hours`` of a service is the one source of its opening hours:
the FAQ words it for answers, and booking makes its slots from it.
"""

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from faq.opening_hours import WeeklyHours, parse_hours

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogueService:
    """What the booking domain needs to know about a catalogue service."""

    id: str
    name: str
    aliases: tuple[str, ...]
    materials: tuple[str, ...]
    bookable: bool
    # The weekly opening hours; None when the catalogue gives none (or only a text).
    hours: WeeklyHours | None = None
    # Word groups that name the service when all their words occur ([娃, 户口] for a newborn).
    keywords: tuple[tuple[str, ...], ...] = ()


def _material_text(item: Any) -> str:
    if isinstance(item, dict):
        name = str(item.get("name") or item.get("title") or "")
        note = item.get("note") or item.get("detail")
        return f"{name}（{note}）" if note else name
    return str(item)


def _hours(service_id: str, raw: Any) -> WeeklyHours | None:
    if not isinstance(raw, dict):
        return None
    try:
        return parse_hours(raw)
    except ValueError as exc:
        # faq.check reports the defect; booking falls back to the office's working-day hours.
        log.warning("catalogue service %s: opening hours ignored: %s", service_id, exc)
        return None


def _entries(raw: Any) -> list[tuple[str, dict]]:
    services = raw.get("services", raw) if isinstance(raw, dict) else raw
    if isinstance(services, dict):
        return [(str(key), value or {}) for key, value in services.items()]
    return [(str(item.get("id")), item) for item in services or [] if isinstance(item, dict)]


class ServiceCatalogue:
    """The catalogue file, re-read whenever it changes on disk so edits apply without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._services: dict[str, CatalogueService] = {}

    def _load(self) -> dict[str, CatalogueService]:
        try:
            stamp = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if stamp != self._stamp:
            with self.path.open(encoding="utf-8") as handle:
                raw = yaml.safe_load(handle) or {}
            services = {}
            for service_id, entry in _entries(raw):
                services[service_id] = CatalogueService(
                    id=service_id,
                    name=str(entry.get("name") or service_id),
                    aliases=tuple(str(alias) for alias in entry.get("aliases") or ()),
                    keywords=tuple(tuple(str(word) for word in group) for group in entry.get("keywords") or ()
                                   if isinstance(group, list)),
                    materials=tuple(_material_text(item) for item in entry.get("materials") or ()),
                    bookable=bool(entry.get("bookable", True)),
                    hours=_hours(service_id, entry.get("hours")),
                )
            self._services, self._stamp = services, stamp
        return self._services

    def get(self, service_id: str) -> CatalogueService | None:
        """Returns one service, or None when the catalogue does not list it."""
        return self._load().get(service_id)

    def name(self, service_id: str) -> str:
        """The service's Chinese name, or its id when the catalogue does not list it."""
        service = self.get(service_id)
        return service.name if service else service_id

    def materials(self, service_id: str) -> list[str]:
        """What to bring for a service."""
        service = self.get(service_id)
        return list(service.materials) if service else []

    def hours(self, service_id: str) -> WeeklyHours | None:
        """A service's weekly opening hours, or None when the catalogue gives none."""
        service = self.get(service_id)
        return service.hours if service else None

    def resolve(self, words: str) -> str | None:
        """Finds a service id from an id, a name or an alias."""
        services = self._load()
        words = (words or "").strip()
        if words in services:
            return words
        for service in services.values():
            if words == service.name or words in service.aliases:
                return service.id
        # Otherwise the longest name or alias said inside the sentence ("我想约办护照"); a word group
        # counts as long as its words together ("给娃上个户口": [娃, 户口] outweighs 户口).
        found = [(len(term), service.id) for service in services.values()
                 for term in (service.name, *service.aliases) if term and term in words]
        found += [(sum(map(len, group)), service.id) for service in services.values()
                  for group in service.keywords if group and all(word in words for word in group)]
        return max(found)[1] if found else None
