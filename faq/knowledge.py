"""The FAQ knowledge base: the service catalogue and the templated entries, read from YAML.

The files are data an operator edits (``faq/catalogue.yml``, ``faq/entries/*.yml``);
this module reads them into immutable records. Reading never trusts the files:
every defect becomes a precise ``KnowledgeProblem`` (see ``faq.check``), and a
knowledge base with problems is never served.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from faq.opening_hours import WeeklyHours, describe, parse_hours, parse_wording

REQUIRED_SERVICE_FIELDS = (
    "name", "aliases", "department", "hall", "window", "address", "hours",
    "materials", "fee", "time_limit", "online_url", "phone", "bookable",
)
BUTTON_KINDS = ("book", "online", "human")
DEFAULT_BUTTONS = ("book", "online", "human")
MIN_QUESTIONS = 12


@dataclass(frozen=True)
class CatalogueService:
    """One service of the catalogue (what citizens come to get done)."""

    id: str
    name: str
    aliases: tuple[str, ...]
    department: str
    hall: str
    window: str
    address: str
    hours: str
    materials: tuple[str, ...]
    fee: str
    time_limit: str
    online_url: str
    phone: str
    bookable: bool
    details: dict[str, str] = field(default_factory=dict)
    # Word groups that name the service when all their words occur, apart or together
    # (身份证 ... 丢了 names id_card_loss, not id_card).
    keywords: tuple[tuple[str, ...], ...] = ()
    # Phrases holding an alias that describe the citizen, not the service (外地户口): they name nothing.
    qualifiers: tuple[str, ...] = ()
    # The weekly schedule {hours} is worded from (None when the catalogue gives the hours as text);
    # the booking schedule reads the same field.
    opening_hours: WeeklyHours | None = None


@dataclass(frozen=True)
class FaqEntry:
    """One question a citizen asks, in many wordings, with its answer template."""

    id: str
    topic: str
    service: str
    # What the entry answers about (materials, fee, time ...); the first is the main one.
    aspects: tuple[str, ...]
    title: str
    questions: tuple[str, ...]
    answer: str
    buttons: tuple[str, ...]
    source: str

    @property
    def aspect(self) -> str:
        """The main aspect."""
        return self.aspects[0]


@dataclass(frozen=True)
class KnowledgeProblem:
    """A defect of the knowledge base files, worded for the operator who fixes it."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass
class KnowledgeSources:
    """What the files say, before validation."""

    root: Path
    services: dict[str, CatalogueService]
    entries: list[FaqEntry]
    problems: list[KnowledgeProblem]


def catalogue_path(root: Path) -> Path:
    """The catalogue file of a knowledge base directory."""
    return root / "catalogue.yml"


def entry_paths(root: Path) -> list[Path]:
    """The entry files of a knowledge base directory, in a stable order."""
    return sorted((root / "entries").glob("*.yml"))


def source_files(root: Path) -> list[Path]:
    """Every file whose change means the knowledge base must be read again."""
    return [catalogue_path(root), root / "aspects.yml", *entry_paths(root)]


def fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the source files (cheap to compare)."""
    marks = []
    for path in source_files(root):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        marks.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(marks)


def _read_yaml(path: Path, problems: list[KnowledgeProblem]) -> Any:
    """Parses one YAML file, turning a syntax error into a problem."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        problems.append(KnowledgeProblem(path.name, "file not found"))
    except yaml.YAMLError as exc:
        problems.append(KnowledgeProblem(path.name, f"not valid YAML: {exc}"))
    return None


def _text_list(value: Any) -> tuple[str, ...] | None:
    """A list of non-empty strings, or None when the value is not one."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        return None
    return tuple(item.strip() for item in value)


def _read_hours(raw: Any, wording: dict[str, str] | None, where: str,
                problems: list[KnowledgeProblem]) -> tuple[str, WeeklyHours | None] | None:
    """The worded hours and the weekly schedule of a service's ``hours`` field (a mapping or a text)."""
    if isinstance(raw, (str, int)):
        return str(raw), None
    try:
        hours = parse_hours(raw)
    except ValueError as exc:
        problems.append(KnowledgeProblem(where, str(exc)))
        return None
    if wording is None:
        return None
    return describe(hours, wording), hours


def _read_service(service_id: str, raw: Any, source: str, problems: list[KnowledgeProblem],
                  wording: dict[str, str] | None = None) -> CatalogueService | None:
    """Builds one catalogue record, reporting every missing or malformed field."""
    where = f"{source}: service '{service_id}'"
    if not isinstance(raw, dict):
        problems.append(KnowledgeProblem(where, "must be a mapping of fields"))
        return None
    missing = [name for name in REQUIRED_SERVICE_FIELDS if raw.get(name) in (None, "", [])]
    for name in missing:
        problems.append(KnowledgeProblem(where, f"required field '{name}' is missing or empty"))
    if missing:
        return None
    aliases = _text_list(raw["aliases"])
    materials = _text_list(raw["materials"])
    details = raw.get("details") or {}
    ok = True
    for name, value in (("aliases", aliases), ("materials", materials)):
        if value is None:
            problems.append(KnowledgeProblem(where, f"field '{name}' must be a list of texts"))
            ok = False
    if not isinstance(raw["bookable"], bool):
        problems.append(KnowledgeProblem(where, "field 'bookable' must be true or false"))
        ok = False
    if not isinstance(details, dict) or not all(isinstance(v, str) for v in details.values()):
        problems.append(KnowledgeProblem(where, "field 'details' must map names to texts"))
        ok = False
    hours = _read_hours(raw["hours"], wording, where, problems)
    if hours is None:
        ok = False
    for name in REQUIRED_SERVICE_FIELDS:
        if name not in ("aliases", "materials", "bookable", "hours") and not isinstance(raw[name], (str, int)):
            problems.append(KnowledgeProblem(where, f"field '{name}' must be a text"))
            ok = False
    keywords = raw.get("keywords") or []
    if not isinstance(keywords, list) or not all(_text_list(group) for group in keywords):
        problems.append(KnowledgeProblem(where, "field 'keywords' must be a list of word lists"))
        ok = False
    qualifiers = _text_list(raw.get("qualifiers") or [])
    if qualifiers is None:
        problems.append(KnowledgeProblem(where, "field 'qualifiers' must be a list of texts"))
        ok = False
    if not ok or aliases is None or materials is None or hours is None:
        return None
    return CatalogueService(
        id=service_id, name=str(raw["name"]), aliases=aliases, department=str(raw["department"]),
        hall=str(raw["hall"]), window=str(raw["window"]), address=str(raw["address"]),
        hours=hours[0], materials=materials, fee=str(raw["fee"]),
        time_limit=str(raw["time_limit"]), online_url=str(raw["online_url"]), phone=str(raw["phone"]),
        bookable=raw["bookable"], details={str(k): v.strip() for k, v in details.items()},
        keywords=tuple(tuple(group) for group in keywords), opening_hours=hours[1], qualifiers=qualifiers or (),
    )


def _read_entry(raw: Any, topic: str, source: str, problems: list[KnowledgeProblem]) -> FaqEntry | None:
    """Builds one FAQ entry, reporting malformed fields."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"].strip():
        problems.append(KnowledgeProblem(source, f"an entry without a text 'id': {str(raw)[:60]}"))
        return None
    where = f"{source}: entry '{raw['id']}'"
    ok = True
    for name in ("service", "title", "answer"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            problems.append(KnowledgeProblem(where, f"field '{name}' is missing or empty"))
            ok = False
    aspects = _text_list([raw["aspect"]] if isinstance(raw.get("aspect"), str) else raw.get("aspect"))
    if not aspects:
        problems.append(KnowledgeProblem(where, "field 'aspect' must be an aspect or a list of aspects"))
        ok = False
    questions = _text_list(raw.get("questions"))
    if questions is None:
        problems.append(KnowledgeProblem(where, "field 'questions' must be a list of texts"))
        ok = False
    buttons = raw.get("buttons", list(DEFAULT_BUTTONS))
    if not isinstance(buttons, list) or any(kind not in BUTTON_KINDS for kind in buttons):
        problems.append(KnowledgeProblem(where, f"field 'buttons' must list some of {', '.join(BUTTON_KINDS)}"))
        ok = False
    if not ok or questions is None or not aspects:
        return None
    return FaqEntry(
        id=raw["id"].strip(), topic=str(raw.get("topic") or topic), service=raw["service"].strip(),
        aspects=aspects, title=raw["title"].strip(), questions=questions,
        answer=raw["answer"].strip(), buttons=tuple(buttons), source=source,
    )


def _read_wording(catalogue: dict, services: dict, source: str,
                  problems: list[KnowledgeProblem]) -> dict[str, str] | None:
    """The words of opening hours, needed once a service gives its hours as a weekly schedule."""
    if "hours_wording" not in catalogue and not any(
            isinstance(raw, dict) and isinstance(raw.get("hours"), dict) for raw in services.values()):
        return None
    try:
        return parse_wording(catalogue.get("hours_wording"))
    except ValueError as exc:
        problems.append(KnowledgeProblem(source, str(exc)))
        return None


def read_sources(root: Path) -> KnowledgeSources:
    """Reads the catalogue and every entry file, collecting problems instead of failing."""
    problems: list[KnowledgeProblem] = []
    services: dict[str, CatalogueService] = {}
    catalogue_file = catalogue_path(root)
    catalogue = _read_yaml(catalogue_file, problems)
    if catalogue is not None:
        raw_services = catalogue.get("services") if isinstance(catalogue, dict) else None
        if not isinstance(raw_services, dict):
            problems.append(KnowledgeProblem(catalogue_file.name, "needs a 'services' mapping"))
        else:
            wording = _read_wording(catalogue, raw_services, catalogue_file.name, problems)
            for service_id, raw in raw_services.items():
                service = _read_service(str(service_id), raw, catalogue_file.name, problems, wording)
                if service is not None:
                    services[service.id] = service
    entries: list[FaqEntry] = []
    for path in entry_paths(root):
        document = _read_yaml(path, problems)
        if document is None:
            continue
        if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
            problems.append(KnowledgeProblem(path.name, "needs 'topic' and an 'entries' list"))
            continue
        topic = str(document.get("topic") or path.stem)
        for raw in document["entries"]:
            entry = _read_entry(raw, topic, path.name, problems)
            if entry is not None:
                entries.append(entry)
    return KnowledgeSources(root=root, services=services, entries=entries, problems=problems)


def read_heldout(path: Path) -> dict[str, list[str]]:
    """Reads the held-out question variants (entry id -> questions)."""
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    return {str(key): [str(q) for q in value] for key, value in raw.items()}
