"""Editing the knowledge base from the console: forms, previews, publication as revisions, rollback.

An edit changes the YAML text of one field and nothing else: the field's node
is found with its position in the file (PyYAML's composer), its text replaced
by the new value written as a plain or a double-quoted scalar, and the file
parsed again, which must give exactly the old data with that one field changed.
So comments, anchors and layout stay, and no value can smuggle structure in
("20元\n  - id: evil" stays one string).

A publication is checked with the faq-check rules on a temporary copy of the
knowledge base before anything is written; refused, it lists the problems and
writes nothing. Accepted, the file is replaced atomically, a revision keeps the
text before and after with its diff, author and time, and the store is
reloaded so the next answer uses it (answers are rendered at run time: no
retraining). Rolling a revision back publishes its "before" text again, only
while the file still holds its "after" text (else 409: roll back the later
revisions first).

Publications of one process are serialised; each also carries the version
(hash) of the file the editor was loaded from, so a change published meanwhile
by someone else is not overwritten (409).
"""

import copy
import difflib
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from conversations.models import utcnow
from faq.check import check_sources
from faq.enums import AnswerStatus
from faq.flows import render_entry
from faq.knowledge import KnowledgeProblem, catalogue_path, entry_paths, read_sources
from faq.knowledge_base import KnowledgeBase, KnowledgeBaseInvalid, KnowledgeStore
from faq.matcher import clean_text
from faq.models import EntryEdit, FaqQuery, FaqRevision, OpenQuestionRead, RevisionRead, ServiceEdit
from faq.render import LIST_FIELDS, TEXT_FIELDS, TemplateFieldError
from faq.retraining import nlu_digest
from service.attempts import as_utc
from service.errors import ConflictError, NotFoundError, ServiceError

ID_PATTERN = re.compile(r"[a-z0-9_]{1,64}")
CATALOGUE = "catalogue.yml"
# An entry file directly in entries/: no separators, no dot but the extension.
ENTRY_FILE = re.compile(r"entries/[A-Za-z0-9_-]{1,100}\.yml")
SERVICE_TEXT_FIELDS = ("name", "department", "hall", "window", "address", "fee", "time_limit", "online_url", "phone")
# Besides the line feed of a multi-line answer: what a YAML file cannot hold, or reads as a line break.
UNPRINTABLE = re.compile("[^\x09\x0a\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]")
Key = str | int
Value = str | list[str]


@dataclass(frozen=True)
class EditProblem:
    """Why an edit cannot be published, as a code the console words, with the field it concerns."""

    code: str
    field: str | None = None
    params: dict[str, str] = dataclass_field(default_factory=dict)
    detail: str | None = None


class EditRefused(Exception):
    """The edit fails the knowledge base's rules; nothing was written."""

    def __init__(self, problems: list[EditProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) with the edit")
        self.problems = problems


@dataclass(frozen=True)
class SourceFile:
    """One knowledge base file's text and data, as read."""

    root: Path
    relative: str
    text: str
    data: Any

    @property
    def path(self) -> Path:
        """The file on disk."""
        return self.root / self.relative

    @property
    def version(self) -> str:
        """A short hash of the text: what an editor was loaded from."""
        return file_version(self.text)


@dataclass(frozen=True)
class Change:
    """One field's new value, at its place in the file's data."""

    keys: tuple[Key, ...]
    value: Value
    field: str


@dataclass(frozen=True)
class EntrySource:
    """An entry found in its file."""

    source: SourceFile
    index: int
    raw: dict[str, Any]

    @property
    def id(self) -> str:
        """The entry's id."""
        return str(self.raw["id"]).strip()


@dataclass(frozen=True)
class ServiceSource:
    """A catalogue service found in the catalogue file."""

    source: SourceFile
    id: str
    raw: dict[str, Any]

    @property
    def hours_note(self) -> str | None:
        """The note worded after the opening hours, when the hours are a schedule that has one."""
        hours = self.raw.get("hours")
        return str(hours["note"]) if isinstance(hours, dict) and "note" in hours else None


@dataclass(frozen=True)
class RenderedAnswer:
    """An entry's answer as the bot would send it (text None when it cannot be rendered)."""

    entry_id: str
    title: str
    text: str | None
    buttons: list[dict[str, str]]


def file_version(text: str) -> str:
    """The version of a file's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_source(root: Path, relative: str) -> SourceFile:
    """Reads one knowledge base file; only the catalogue and entry files are ever addressed."""
    if relative != CATALOGUE and not ENTRY_FILE.fullmatch(relative):
        raise NotFoundError("no such knowledge base file")
    path = root / relative
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise NotFoundError("no such knowledge base file") from exc
    return SourceFile(root=root, relative=relative, text=text, data=yaml.safe_load(text))


# --- finding what is edited ---------------------------------------------------------------------

def find_entry(root: Path, entry_id: str, hint: str | None = None) -> EntrySource:
    """The entry with this id in the entry files (the hinted file first); 404 when there is none."""
    if not ID_PATTERN.fullmatch(entry_id):
        raise NotFoundError("no such FAQ entry")
    names = [path.name for path in entry_paths(root)]
    if hint in names:
        names.remove(hint)
        names.insert(0, hint)
    for name in names:
        if not ENTRY_FILE.fullmatch(f"entries/{name}"):
            continue
        source = read_source(root, f"entries/{name}")
        entries = source.data.get("entries") if isinstance(source.data, dict) else None
        for index, raw in enumerate(entries or []):
            if isinstance(raw, dict) and str(raw.get("id", "")).strip() == entry_id:
                return EntrySource(source=source, index=index, raw=raw)
    raise NotFoundError("no such FAQ entry")


def find_service(root: Path, service_id: str) -> ServiceSource:
    """The catalogue service with this id; 404 when there is none."""
    if not ID_PATTERN.fullmatch(service_id):
        raise NotFoundError("no such catalogue service")
    source = read_source(root, CATALOGUE)
    services = source.data.get("services") if isinstance(source.data, dict) else None
    raw = services.get(service_id) if isinstance(services, dict) else None
    if not isinstance(raw, dict):
        raise NotFoundError("no such catalogue service")
    return ServiceSource(source=source, id=service_id, raw=raw)


def placeholders(service: ServiceSource) -> list[str]:
    """The {fields} an answer template of this service may use."""
    details = service.raw.get("details") or {}
    return [*TEXT_FIELDS, *LIST_FIELDS, *(f"details.{key}" for key in details)]


# --- checking and collecting the new values -----------------------------------------------------

def _clean_text(name: str, value: str, problems: list[EditProblem], *, multiline: bool = False,
                item: bool = False) -> str | None:
    cleaned = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        if not item:
            problems.append(EditProblem("required", name))
        return None
    if ("\n" in cleaned or "\t" in cleaned) and not multiline:
        problems.append(EditProblem("line_break", name))
        return None
    if UNPRINTABLE.search(cleaned):
        problems.append(EditProblem("bad_character", name))
        return None
    return cleaned


def _clean_list(name: str, values: list[str], problems: list[EditProblem]) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        item = _clean_text(name, value, problems, item=True)
        if item is not None and item not in cleaned:
            cleaned.append(item)
    return cleaned


def entry_changes(entry: EntrySource, edit: EntryEdit) -> tuple[list[Change], list[EditProblem]]:
    """The fields an entry edit changes, and what is wrong with the new values."""
    problems: list[EditProblem] = []
    changes: list[Change] = []
    base = ("entries", entry.index)
    for name, multiline in (("title", False), ("answer", True)):
        value = getattr(edit, name)
        if value is None:
            continue
        cleaned = _clean_text(name, value, problems, multiline=multiline)
        if cleaned is not None and cleaned != entry.raw.get(name):
            changes.append(Change((*base, name), cleaned, name))
    if edit.questions is not None:
        questions = _clean_list("questions", edit.questions, problems)
        if questions != entry.raw.get("questions"):
            changes.append(Change((*base, "questions"), questions, "questions"))
    return changes, problems


def service_changes(service: ServiceSource, edit: ServiceEdit) -> tuple[list[Change], list[EditProblem]]:
    """The fields a service edit changes, and what is wrong with the new values."""
    problems: list[EditProblem] = []
    changes: list[Change] = []
    base = ("services", service.id)
    for name in SERVICE_TEXT_FIELDS:
        value = getattr(edit, name)
        if value is None:
            continue
        cleaned = _clean_text(name, value, problems)
        if cleaned is not None and cleaned != service.raw.get(name):
            changes.append(Change((*base, name), cleaned, name))
    if edit.hours_note is not None:
        if service.hours_note is None:
            problems.append(EditProblem("not_editable", "hours_note"))
        else:
            cleaned = _clean_text("hours_note", edit.hours_note, problems)
            if cleaned is not None and cleaned != service.hours_note:
                changes.append(Change((*base, "hours", "note"), cleaned, "hours_note"))
    for name in ("materials", "aliases"):
        values = getattr(edit, name)
        if values is not None:
            cleaned_list = _clean_list(name, values, problems)
            if cleaned_list != service.raw.get(name):
                changes.append(Change((*base, name), cleaned_list, name))
    details = service.raw.get("details") or {}
    for key, value in (edit.details or {}).items():
        name = f"details.{key}"
        if key not in details:
            problems.append(EditProblem("unknown_detail", name, {"key": key[:40]}))
            continue
        cleaned = _clean_text(name, value, problems)
        if cleaned is not None and cleaned != details[key]:
            changes.append(Change((*base, "details", key), cleaned, name))
    return changes, problems


# --- writing one field's text -------------------------------------------------------------------

def _node_at(root: yaml.Node, keys: tuple[Key, ...]) -> tuple[yaml.Node, bool]:
    """The node at a path of keys, and whether it sits inside a flow collection ([...] or {...})."""
    node, in_flow = root, False
    for key in keys:
        found = None
        if isinstance(node, yaml.MappingNode):
            found = next((value for name, value in node.value
                          if isinstance(name, yaml.ScalarNode) and name.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            found = node.value[key]
        if found is None:
            raise EditRefused([EditProblem("unwritable", detail=f"no node at {keys}")])
        in_flow = in_flow or bool(getattr(node, "flow_style", False))
        node = found
    return node, in_flow


def _plain_reads_back(value: str, in_flow: bool) -> bool:
    if not value or value != value.strip() or "\n" in value or "\t" in value:
        return False
    probe, expected = (f"[{value}]", [value]) if in_flow else (f"k: {value}", {"k": value})
    try:
        return bool(yaml.safe_load(probe) == expected)
    except yaml.YAMLError:
        return False


def _scalar(value: str, *, plain: bool, in_flow: bool) -> str:
    """A value as YAML text: plain when it reads back as itself, else double-quoted (JSON is valid YAML)."""
    if plain and _plain_reads_back(value, in_flow):
        return value
    return json.dumps(value, ensure_ascii=False)


def _rendered(text: str, node: yaml.Node, old: Any, value: Value, *, in_flow: bool,
              keep_style: bool) -> tuple[int, int, str]:
    """(start, end, new text) of a node's span holding the new value."""
    start = node.start_mark.index
    if isinstance(value, str):
        if not isinstance(node, yaml.ScalarNode):
            raise EditRefused([EditProblem("unwritable", detail="a text replaces a collection")])
        plain = keep_style and node.style is None
        source = _scalar(value, plain=plain, in_flow=in_flow)
        if node.style in ("|", ">"):
            source += "\n"  # a block scalar's span runs to the start of the next line
        return start, node.end_mark.index, source
    if not isinstance(node, yaml.SequenceNode):
        raise EditRefused([EditProblem("unwritable", detail="a list replaces a text")])
    flow = bool(node.flow_style) or not node.value or not value
    originals: dict[str, str] = {}
    if keep_style and isinstance(old, list):
        for item_node, item in zip(node.value, old, strict=False):
            if isinstance(item, str) and isinstance(item_node, yaml.ScalarNode):
                originals.setdefault(item, text[item_node.start_mark.index:item_node.end_mark.index])
    items = [originals.get(item) or _scalar(item, plain=keep_style, in_flow=flow or in_flow) for item in value]
    end = node.end_mark.index if node.flow_style or not node.value else node.value[-1].end_mark.index
    if flow:
        return start, end, "[" + ", ".join(items) + "]"
    indent = "\n" + " " * node.start_mark.column + "- "
    return start, end, "- " + indent.join(items)


def _set(data: Any, keys: tuple[Key, ...], value: Value) -> None:
    for key in keys[:-1]:
        data = data[key]
    data[keys[-1]] = value


def replace_value(text: str, keys: tuple[Key, ...], value: Value) -> str:
    """The file's text with one field's value replaced; everything else is left as it was, byte for byte."""
    data = yaml.safe_load(text)
    expected = copy.deepcopy(data)
    _set(expected, keys, value)
    old: Any = data
    for key in keys:
        old = old[key]
    node, in_flow = _node_at(yaml.compose(text), keys)
    for keep_style in (True, False):
        start, end, source = _rendered(text, node, old, value, in_flow=in_flow, keep_style=keep_style)
        candidate = text[:start] + source + text[end:]
        try:
            if yaml.safe_load(candidate) == expected:
                return candidate
        except yaml.YAMLError:
            continue
    raise EditRefused([EditProblem("unwritable", detail=f"cannot write {'.'.join(map(str, keys))} safely")])


def apply_changes(text: str, changes: list[Change]) -> str:
    """The file's text with every change made."""
    for change in changes:
        text = replace_value(text, change.keys, change.value)
    return text


# --- checking a changed knowledge base ------------------------------------------------------------

PROBLEM_PATTERNS: tuple[tuple[re.Pattern[str], str, str | None], ...] = (
    (re.compile(r"template variable \{(?P<name>[^}]*)\} is missing from catalogue service '(?P<service>[^']*)'"),
     "unknown_placeholder", "answer"),
    (re.compile(r"answer has a brace"), "stray_brace", "answer"),
    (re.compile(r"has (?P<count>\d+) distinct questions, needs at least (?P<needed>\d+)"), "too_few_questions",
     "questions"),
    (re.compile(r"question variant '(?P<question>.*)' appears in entries (?P<entries>.*)"), "duplicate_question",
     "questions"),
    (re.compile(r"entries '(?P<left>[^']*)' and '(?P<right>[^']*)' have questions too similar"), "similar_entries",
     "questions"),
    (re.compile(r"field '(?P<field>\w+)' is missing or empty"), "required", None),
    (re.compile(r"field '(?P<field>\w+)' must be"), "malformed", None),
)


def edit_problem(problem: KnowledgeProblem) -> EditProblem:
    """A faq-check problem as a problem of the edit (the original wording kept as the detail)."""
    for pattern, code, name in PROBLEM_PATTERNS:
        match = pattern.search(problem.message)
        if match:
            params = {key: value[:200] for key, value in match.groupdict().items()}
            return EditProblem(code, name or params.get("field"), params, str(problem))
    return EditProblem("check_failed", None, {}, str(problem))


def _copied_files(root: Path) -> list[Path]:
    extra = [root / "aspects.yml", root / "nlu_templates.yml"]
    return [catalogue_path(root), *(path for path in extra if path.exists()), *entry_paths(root)]


@contextmanager
def candidate_root(root: Path, relative: str, text: str) -> Iterator[Path]:
    """A temporary copy of the knowledge base with one file's text replaced."""
    with tempfile.TemporaryDirectory(prefix="faq-candidate-") as directory:
        target = Path(directory)
        (target / "entries").mkdir()
        for path in _copied_files(root):
            shutil.copyfile(path, target / path.relative_to(root))
        (target / relative).write_bytes(text.encode("utf-8"))
        yield target


def check_candidate(root: Path, relative: str, text: str) -> list[EditProblem]:
    """The faq-check problems of the knowledge base with one file's text replaced."""
    with candidate_root(root, relative, text) as candidate:
        return [edit_problem(problem) for problem in check_sources(read_sources(candidate))]


def _render_from(base: KnowledgeBase, root: Path, entry_ids: list[str]) -> list[RenderedAnswer]:
    """Answers of entries rendered from the knowledge base in a directory, as the bot renders them."""
    sources = read_sources(root)
    view = replace(base, root=root, services=dict(sources.services),
                   entries={entry.id: entry for entry in sources.entries})
    answers = []
    for entry_id in entry_ids:
        entry = view.entries.get(entry_id)
        if entry is None:
            continue
        try:
            text, buttons = render_entry(view, entry)
        except (TemplateFieldError, KeyError):
            text, buttons = None, []
        answers.append(RenderedAnswer(entry.id, entry.title, text, buttons))
    return answers


def _preview(base: KnowledgeBase, source: SourceFile, changes: list[Change], problems: list[EditProblem],
             entry_ids: list[str]) -> tuple[list[RenderedAnswer], list[EditProblem]]:
    try:
        text = apply_changes(source.text, changes)
    except EditRefused as exc:
        return [], [*problems, *exc.problems]
    with candidate_root(source.root, source.relative, text) as candidate:
        checked = [edit_problem(problem) for problem in check_sources(read_sources(candidate))]
        return _render_from(base, candidate, entry_ids), [*problems, *checked]


def preview_entry(*, base: KnowledgeBase, entry_id: str, edit: EntryEdit
                  ) -> tuple[RenderedAnswer | None, list[EditProblem]]:
    """The entry's answer rendered with the edited, unsaved fields, and what stops them being published."""
    hint = base.entries[entry_id].source if entry_id in base.entries else None
    entry = find_entry(base.root, entry_id, hint)
    changes, problems = entry_changes(entry, edit)
    answers, problems = _preview(base, entry.source, changes, problems, [entry.id])
    return (answers[0] if answers else None), problems


def service_entry_ids(root: Path, service_id: str) -> list[str]:
    """The entries answering about a service, in file order."""
    return [entry.id for entry in read_sources(root).entries if entry.service == service_id]


def preview_service(*, base: KnowledgeBase, service_id: str, edit: ServiceEdit
                    ) -> tuple[list[RenderedAnswer], list[EditProblem]]:
    """Every answer of the service rendered with the edited, unsaved fields, and what stops them being published."""
    service = find_service(base.root, service_id)
    changes, problems = service_changes(service, edit)
    return _preview(base, service.source, changes, problems, service_entry_ids(base.root, service_id))


# --- publishing -----------------------------------------------------------------------------------

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def editing(root: Path) -> Iterator[None]:
    """Serialises the publications of one knowledge base in this process."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(str(root.resolve()), threading.Lock())
    with lock:
        yield


def unified_diff(relative: str, before: str, after: str) -> str:
    """The change of a file as a unified diff."""
    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{relative}", tofile=f"b/{relative}", n=2))


def write_atomically(path: Path, text: str) -> None:
    """Replaces a file's content in one step (temporary file + rename) with a new modification time."""
    previous = path.stat()
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, previous.st_mode & 0o7777)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    if path.stat().st_mtime_ns == previous.st_mtime_ns:
        # The reload notices a file by its size and time: a same-size write within one clock tick must differ.
        bumped = previous.st_mtime_ns + 1000
        os.utime(path, ns=(bumped, bumped))


def _expect_version(source: SourceFile, version: str | None) -> None:
    if version is not None and version != source.version:
        raise ConflictError("the file was changed since the editor was opened; reload it", code="faq_changed")


def _publish(*, store: KnowledgeStore, db_session: Session, source: SourceFile, after: str, target: str,
             author: str, summary: str, rolled_back_from: int | None = None) -> FaqRevision:
    """Checks the changed knowledge base, writes the file, reloads the store and records the revision.

    The revision is written last, so the database's write lock is not held while the store reloads;
    if it cannot be written, the file is put back.
    """
    with candidate_root(source.root, source.relative, after) as candidate:
        problems = [edit_problem(problem) for problem in check_sources(read_sources(candidate))]
        if problems:
            raise EditRefused(problems)
        nlu_after = nlu_digest(candidate)
    nlu_before = nlu_digest(source.root)
    try:
        write_atomically(source.path, after)
    except OSError as exc:
        raise ServiceError("the knowledge base files cannot be written on this server", code="faq_not_writable",
                           status_code=503) from exc
    try:
        store.reload()
        revision = FaqRevision(path=source.relative, target=target, summary=summary.strip()[:300],
                               before_text=source.text, after_text=after,
                               diff=unified_diff(source.relative, source.text, after), author=author[:64],
                               created_at=utcnow(), rolled_back_from=rolled_back_from,
                               nlu_before=nlu_before, nlu_after=nlu_after)
        db_session.add(revision)
        db_session.flush()
    except BaseException as exc:
        write_atomically(source.path, source.text)
        try:
            store.reload()
        except KnowledgeBaseInvalid:
            pass
        if isinstance(exc, KnowledgeBaseInvalid):
            raise EditRefused([edit_problem(problem) for problem in exc.problems]) from exc
        raise
    return revision


def _publish_changes(*, store: KnowledgeStore, db_session: Session, source: SourceFile, changes: list[Change],
                     problems: list[EditProblem], target: str, author: str, summary: str) -> FaqRevision:
    if problems:
        raise EditRefused(problems)
    if not changes:
        raise EditRefused([EditProblem("no_change")])
    return _publish(store=store, db_session=db_session, source=source, after=apply_changes(source.text, changes),
                    target=target, author=author, summary=summary)


def publish_entry(*, store: KnowledgeStore, db_session: Session, entry_id: str, edit: EntryEdit, author: str,
                  summary: str, version: str | None = None) -> FaqRevision:
    """Publishes an entry edit as a revision; the next answer uses it."""
    with editing(store.root):
        entry = find_entry(store.root, entry_id)
        _expect_version(entry.source, version)
        changes, problems = entry_changes(entry, edit)
        return _publish_changes(store=store, db_session=db_session, source=entry.source, changes=changes,
                                problems=problems, target=f"entry:{entry.id}", author=author, summary=summary)


def publish_service(*, store: KnowledgeStore, db_session: Session, service_id: str, edit: ServiceEdit,
                    author: str, summary: str, version: str | None = None) -> FaqRevision:
    """Publishes a catalogue service edit as a revision; the next answer uses it."""
    with editing(store.root):
        service = find_service(store.root, service_id)
        _expect_version(service.source, version)
        changes, problems = service_changes(service, edit)
        return _publish_changes(store=store, db_session=db_session, source=service.source, changes=changes,
                                problems=problems, target=f"service:{service.id}", author=author, summary=summary)


def add_question(*, store: KnowledgeStore, db_session: Session, entry_id: str, question: str, author: str,
                 summary: str, version: str | None = None) -> FaqRevision:
    """Adds a question variant to an entry (e.g. one the FAQ missed) as a revision; the matcher uses it at once."""
    with editing(store.root):
        entry = find_entry(store.root, entry_id)
        _expect_version(entry.source, version)
        problems: list[EditProblem] = []
        cleaned = _clean_text("question", question, problems)
        questions = [str(q) for q in entry.raw.get("questions") or []]
        if cleaned is not None and clean_text(cleaned).replace(" ", "") in {
                clean_text(q).replace(" ", "") for q in questions}:
            problems.append(EditProblem("duplicate_question", "question", {"question": cleaned, "entries": entry.id}))
        changes = [] if cleaned is None else [Change(("entries", entry.index, "questions"), [*questions, cleaned],
                                                     "questions")]
        return _publish_changes(store=store, db_session=db_session, source=entry.source, changes=changes,
                                problems=problems, target=f"entry:{entry.id}", author=author, summary=summary)


def roll_back(*, store: KnowledgeStore, db_session: Session, revision_id: int, author: str,
              summary: str) -> FaqRevision:
    """Publishes a revision's "before" text again, while the file still holds its "after" text."""
    with editing(store.root):
        revision = db_session.get(FaqRevision, revision_id)
        if revision is None:
            raise NotFoundError("no such revision")
        source = read_source(store.root, revision.path)
        if source.text != revision.after_text:
            raise ConflictError("the file was changed after this revision; roll back the later revisions first",
                                code="faq_changed_since")
        return _publish(store=store, db_session=db_session, source=source, after=revision.before_text,
                        target=revision.target, author=author, summary=summary, rolled_back_from=revision.id)


# --- history and the questions the FAQ missed ---------------------------------------------------

def revision_read(revision: FaqRevision, current_text: str | None, *, with_diff: bool = False) -> RevisionRead:
    """A revision as the API shows it."""
    return RevisionRead(id=revision.id, path=revision.path, target=revision.target, summary=revision.summary,
                        author=revision.author, created_at=as_utc(revision.created_at),
                        rolled_back_from=revision.rolled_back_from,
                        changes_nlu=revision.nlu_before != revision.nlu_after,
                        can_roll_back=current_text == revision.after_text,
                        diff=revision.diff if with_diff else None)


def current_text(root: Path, relative: str) -> str | None:
    """A knowledge base file's current text (None when it is gone)."""
    try:
        return read_source(root, relative).text
    except NotFoundError:
        return None


def list_revisions(*, db_session: Session, root: Path, target: str | None, limit: int) -> list[RevisionRead]:
    """The latest revisions, of one entry or service or of all, newest first."""
    query = select(FaqRevision).order_by(FaqRevision.id.desc()).limit(limit)
    if target is not None:
        query = query.where(FaqRevision.target == target)
    texts: dict[str, str | None] = {}
    result = []
    for revision in db_session.scalars(query):
        if revision.path not in texts:
            texts[revision.path] = current_text(root, revision.path)
        result.append(revision_read(revision, texts[revision.path]))
    return result


def open_questions(*, db_session: Session, knowledge: KnowledgeBase, limit: int) -> list[OpenQuestionRead]:
    """Questions the FAQ did not answer or asked back about, most frequent first, minus those now in an entry."""
    unanswered = func.sum(case((FaqQuery.status == AnswerStatus.unknown, 1), else_=0))
    clarified = func.sum(case((FaqQuery.status == AnswerStatus.clarify, 1), else_=0))
    rows = db_session.execute(
        select(FaqQuery.question, unanswered, clarified, func.max(FaqQuery.created_at))
        .where(FaqQuery.status.in_([AnswerStatus.unknown, AnswerStatus.clarify]))
        .group_by(FaqQuery.question).order_by(func.count().desc(), func.max(FaqQuery.created_at).desc())
        .limit(limit * 3)
    ).all()
    known = {clean_text(q).replace(" ", "") for entry in knowledge.entries.values() for q in entry.questions}
    result = []
    for question, missed, asked_back, last in rows:
        if clean_text(question).replace(" ", "") in known:
            continue
        ranking = knowledge.matcher.rank(question, None, limit=3)
        suggestions = [{"entry_id": c.entry_id, "title": knowledge.entries[c.entry_id].title}
                       for c in ranking.candidates if c.entry_id in knowledge.entries]
        result.append(OpenQuestionRead(question=question, unanswered=int(missed or 0), clarified=int(asked_back or 0),
                                       last_asked=as_utc(last) if last else None,
                                       suggestions=suggestions))
        if len(result) >= limit:
            break
    return result
