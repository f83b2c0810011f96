"""Dialogue suite: citizens' conversations through the widget's websocket, judged by their outcome.

Each dialogue in ``tests/dialogues/*.yml`` is one citizen typing on a phone. It
talks to the product exactly as the chat widget does (``/ws/conversations``:
a ``session`` frame first, then ``message`` frames, each answered by the bot's
``message`` frames and an ``ack``), and is judged on three things:

* per turn, regexes the bot's replies must show (``expect``) or must not show
  (``reject``), buttons it must offer, values to capture for later turns;
* global rules on every turn: at most two bot messages, never a message the
  bot sent in the previous turn word for word, no text sent a third time;
* the outcome in the service database (opened read-only): the booking,
  complaint or handoff ticket the conversation created, or that it created
  none.

A dialogue passes when every check holds. The suite passes when the share of
passing dialogues reaches ``--min-pass-rate``. Format of a dialogue file (more in
tests/dialogues/README.md)::

    theme: booking
    patterns:                   # optional: YAML anchors reused below
      code: &code '(?<![A-Za-z0-9])[A-HJ-KM-NP-Z2-9]{6}(?![A-Za-z0-9])'
    dialogues:
      - id: booking-all-in-one  # unique in the suite
        title: what the citizen wants, in a line
        turns:
          - say: 明天上午帮我约一下办社保卡，我叫张伟，电话13812345678
            expect: [确认]      # regexes (re.search) on the turn's bot texts joined
            reject: ['姓名[^：:]{0,8}[？?]']
            buttons: [确认]     # regexes some button title must match
            note: why a clerk would answer like this (printed when the turn fails)
          - click: 确认         # a button whose title contains this; typed when there is none
            capture: '(?P<code>[A-HJ-KM-NP-Z2-9]{6})'   # named groups become ${code}
          - say: 对             # played only if the previous reply matches `if` and not `unless`:
            if: 属于            # the answer to a question a clerk may or may not need to ask
            unless: 提交
          - say: 查一下预约${code}，手机尾号5678
        outcome:                # a mapping per record kind, `none` (nothing created) or `any`
          booking: {service: social_security_card, day: 2026-11-19, part: morning, name: 张伟}
          # complaint / handoff left out = none of them created; `outcome: nothing` = none at all

Run against a stack it starts itself (temporary database, frozen clock,
agents on duty around the clock) or against a running one::

    .venv/bin/python scripts/eval_dialogues.py                    # the whole suite
    .venv/bin/python scripts/eval_dialogues.py --only 'booking*'  # ids or themes (glob)
    .venv/bin/python scripts/eval_dialogues.py --service-url http://127.0.0.1:8000 --database var/service.db
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DIALOGUES_DIR = ROOT / "tests" / "dialogues"
RESULTS_PATH = ROOT / "var" / "results" / "dialogues.json"
DEFAULT_MIN_PASS_RATE = 0.95
DEFAULT_CONCURRENCY = 3
TURN_TIMEOUT_SECONDS = 120.0

# The global rules every turn is held to.
MAX_BOT_MESSAGES_PER_TURN = 2
MAX_TIMES_SAME_TEXT = 2
# Who speaks for the product in the transcript: the bot, and the router's own notices while waiting.
BOT_SENDERS = ("bot", "system")

# The stack the suite starts by itself: the same conditions as the live_stack fixture (tests/conftest.py).
STACK_ENV = {
    "HANDOFF__DEMO_PASSWORD": "demo-pass-123",
    "HANDOFF__WORKING_DAYS": "everyday",
    "HANDOFF__WORKING_HOURS_START": "00:00",
    "HANDOFF__WORKING_HOURS_END": "24:00",
    # A Wednesday at 10:00 in Shanghai: 明天 = 2026-11-19, 下周三 = 2026-11-25.
    "APPOINTMENTS__FROZEN_CLOCK": "2026-11-18T10:00:00+08:00",
    # Every simulated citizen comes from 127.0.0.1.
    "ATTEMPTS__MESSAGES_PER_ADDRESS": "1000000",
}

TURN_KEYS = {"say", "click", "if", "unless", "expect", "reject", "buttons", "capture", "note"}
DIALOGUE_KEYS = {"id", "title", "turns", "outcome", "note"}
FILE_KEYS = {"theme", "patterns", "dialogues"}
RECORD_KINDS = ("booking", "complaint", "handoff")
# Fields an outcome may name per record kind; a list value means "any of these".
OUTCOME_FIELDS = {
    "booking": {"service", "day", "start", "part", "status", "name", "mobile", "id_number_masked", "window", "count"},
    "complaint": {"category", "status", "mobile", "anonymous", "description_contains", "location_contains",
                  "location", "count"},
    "handoff": {"reason", "emotion", "status", "count"},
}
MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
VARIABLE = re.compile(r"\$\{(\w+)\}")


class SuiteError(Exception):
    """A dialogue file that does not follow the format."""


# --- the suite --------------------------------------------------------------------------------

@dataclass
class Turn:
    """One thing the citizen does, and what the bot's answer must (not) show."""

    say: str | None = None
    click: str | None = None
    expect: list[str] = field(default_factory=list)
    reject: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    capture: list[str] = field(default_factory=list)
    note: str | None = None
    # Played only when the previous reply matches `only_if` and not `unless`: an answer to a question
    # a clerk may or may not need to ask (e.g. confirming a complaint's category before the read-back).
    only_if: str | None = None
    unless: str | None = None

    def wanted(self, previous: TurnRecord | None) -> bool:
        """Whether the turn is played after this previous reply."""
        joined = "\n".join(previous.texts) if previous else ""
        if self.only_if is not None and not re.search(self.only_if, joined):
            return False
        return self.unless is None or not re.search(self.unless, joined)

    @property
    def shown(self) -> str:
        """The turn as a person reads it in a report."""
        return self.say if self.say is not None else f"[点击 {self.click}]"


@dataclass
class Dialogue:
    """One citizen's conversation and the outcome a patient clerk would reach."""

    id: str
    theme: str
    file: str
    title: str
    turns: list[Turn]
    outcome: dict[str, Any]
    note: str | None = None


def _as_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str | int) for v in values):
        raise SuiteError(f"{where}: expected a string or a list of strings")
    return [str(v) for v in values]


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(VARIABLE.sub("x", pattern))
    except re.error as exc:
        raise SuiteError(f"{where}: bad regex {pattern!r}: {exc}") from None


def _parse_turn(raw: Any, where: str) -> Turn:
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: a turn is a mapping with `say` or `click`")
    unknown = set(raw) - TURN_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown keys {sorted(unknown)}")
    if ("say" in raw) == ("click" in raw):
        raise SuiteError(f"{where}: a turn has exactly one of `say` and `click`")
    turn = Turn(
        say=str(raw["say"]) if "say" in raw else None, click=str(raw["click"]) if "click" in raw else None,
        expect=_as_list(raw.get("expect"), where), reject=_as_list(raw.get("reject"), where),
        buttons=_as_list(raw.get("buttons"), where), capture=_as_list(raw.get("capture"), where),
        note=raw.get("note"), only_if=raw.get("if"), unless=raw.get("unless"),
    )
    for pattern in turn.expect + turn.reject + turn.buttons + turn.capture + _as_list(raw.get("if"), where) \
            + _as_list(raw.get("unless"), where):
        _check_regex(pattern, where)
    for pattern in turn.capture:
        if not re.compile(pattern).groupindex:
            raise SuiteError(f"{where}: capture {pattern!r} has no named group (?P<name>...)")
    return turn


def _parse_outcome(raw: Any, where: str) -> dict[str, Any]:
    """Normalises an outcome to {kind: None (none created) | "any" | {field: value}} for every kind."""
    if raw in ("nothing", None):
        raw = {}
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}: outcome is a mapping or `nothing`")
    unknown = set(raw) - set(RECORD_KINDS)
    if unknown:
        raise SuiteError(f"{where}: unknown outcome kinds {sorted(unknown)}")
    outcome: dict[str, Any] = {}
    for kind in RECORD_KINDS:
        spec = raw.get(kind)
        if spec in (None, "none", False):
            outcome[kind] = None
        elif spec == "any":
            outcome[kind] = "any"
        elif isinstance(spec, dict):
            unknown_fields = set(spec) - OUTCOME_FIELDS[kind]
            if unknown_fields:
                raise SuiteError(f"{where}: unknown {kind} fields {sorted(unknown_fields)}")
            outcome[kind] = dict(spec)
        else:
            raise SuiteError(f"{where}: outcome.{kind} is a mapping, `none` or `any`")
    return outcome


def load_file(path: Path) -> list[Dialogue]:
    """Reads one dialogue file; raises SuiteError on anything outside the format."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or set(data) - FILE_KEYS or "dialogues" not in data:
        raise SuiteError(f"{path.name}: expected keys theme, dialogues (and optional patterns)")
    theme = str(data.get("theme") or path.stem)
    dialogues = []
    for index, raw in enumerate(data["dialogues"] or []):
        where = f"{path.name} dialogue {index + 1}"
        if not isinstance(raw, dict) or "id" not in raw or not raw.get("turns"):
            raise SuiteError(f"{where}: a dialogue needs an id and turns")
        unknown = set(raw) - DIALOGUE_KEYS
        if unknown:
            raise SuiteError(f"{where}: unknown keys {sorted(unknown)}")
        where = f"{path.name} {raw['id']}"
        turns = [_parse_turn(turn, f"{where} turn {n + 1}") for n, turn in enumerate(raw["turns"])]
        dialogues.append(Dialogue(id=str(raw["id"]), theme=theme, file=path.name, title=str(raw.get("title") or ""),
                                  turns=turns, outcome=_parse_outcome(raw.get("outcome"), where),
                                  note=raw.get("note")))
    return dialogues


def lint(dialogues: list[Dialogue]) -> None:
    """Suite-wide rules: unique ids, and no mobile number shared by two dialogues.

    Every dialogue runs against the same database, where a mobile may hold one
    active booking per service and repeated complaints from one mobile are
    escalated: sharing a number would make dialogues depend on each other.
    """
    ids = Counter(d.id for d in dialogues)
    duplicates = sorted(i for i, n in ids.items() if n > 1)
    if duplicates:
        raise SuiteError(f"duplicate dialogue ids: {duplicates}")
    owners: dict[str, str] = {}
    for dialogue in dialogues:
        for turn in dialogue.turns:
            for mobile in MOBILE_IN_TEXT.findall(re.sub(r"[\s-]", "", turn.say or "")):
                owner = owners.setdefault(mobile, dialogue.id)
                if owner != dialogue.id:
                    raise SuiteError(f"mobile {mobile} is used by {owner} and {dialogue.id}; give each its own")


def load_suite(directory: Path = DIALOGUES_DIR, only: list[str] | None = None) -> list[Dialogue]:
    """Every dialogue of the directory's YAML files (linted), optionally those whose id or theme match a glob."""
    dialogues = [d for path in sorted(directory.glob("*.yml")) for d in load_file(path)]
    lint(dialogues)
    if only:
        dialogues = [d for d in dialogues if any(fnmatch.fnmatch(d.id, p) or fnmatch.fnmatch(d.theme, p)
                                                  for p in only)]
    return dialogues


# --- results ----------------------------------------------------------------------------------

@dataclass
class Failure:
    """One check that did not hold; turn is 1-based, None for the outcome."""

    check: str
    detail: str
    turn: int | None = None


@dataclass
class TurnRecord:
    """What the citizen sent and every bot message that answered it."""

    said: str
    replies: list[dict[str, Any]]
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    skipped: bool = False
    note: str | None = None

    @property
    def texts(self) -> list[str]:
        """The bot's texts of this turn, in order."""
        return [r["text"] for r in self.replies if r.get("text")]

    @property
    def buttons(self) -> list[dict[str, str]]:
        """Every button the bot offered in this turn."""
        return [b for r in self.replies for b in r.get("buttons") or []]


@dataclass
class DialogueResult:
    """How one dialogue went."""

    id: str
    theme: str
    file: str
    title: str
    conversation_id: str | None = None
    turns: list[TurnRecord] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every check held."""
        return not self.failures

    @property
    def first_failure(self) -> Failure | None:
        """The earliest failure: a turn's, or the outcome's."""
        return self.failures[0] if self.failures else None


@dataclass
class SuiteResult:
    """The whole run."""

    results: list[DialogueResult]
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.results) if self.results else 0.0


# --- the checks -------------------------------------------------------------------------------

def substitute(text: str, variables: dict[str, str], regex: bool = False) -> tuple[str, list[str]]:
    """Replaces ${name} with captured values (escaped inside regexes); returns the text and missing names."""
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            missing.append(name)
            return match.group(0)
        return re.escape(variables[name]) if regex else variables[name]

    return VARIABLE.sub(value, text), missing


def check_turn(turn: Turn, record: TurnRecord, variables: dict[str, str]) -> list[Failure]:
    """The turn's own expectations; captures update ``variables``."""
    failures = []
    joined = "\n".join(record.texts)
    for pattern in turn.expect:
        regex, missing = substitute(pattern, variables, regex=True)
        if missing or not re.search(regex, joined):
            failures.append(Failure("expect", f"expected /{regex}/ in the reply"))
    for pattern in turn.reject:
        regex, _ = substitute(pattern, variables, regex=True)
        found = re.search(regex, joined)
        if found:
            failures.append(Failure("reject", f"the reply must not show /{regex}/ (found {found.group(0)!r})"))
    titles = [b.get("title") or "" for b in record.buttons]
    for pattern in turn.buttons:
        if not any(re.search(pattern, title) for title in titles):
            failures.append(Failure("buttons", f"expected a button /{pattern}/, got {titles}"))
    for pattern in turn.capture:
        found = re.search(pattern, joined)
        if found:
            variables.update({k: v for k, v in found.groupdict().items() if v is not None})
        else:
            failures.append(Failure("capture", f"nothing to capture with /{pattern}/"))
    return failures


def check_global_rules(record: TurnRecord, previous: TurnRecord | None, seen: Counter[str]) -> list[Failure]:
    """At most two bot messages, nothing repeated from the previous turn, no text a third time."""
    failures = []
    texts = record.texts
    if len(texts) > MAX_BOT_MESSAGES_PER_TURN:
        failures.append(Failure("too_many_messages",
                                f"{len(texts)} bot messages in one turn (at most {MAX_BOT_MESSAGES_PER_TURN})"))
    if not record.replies:
        failures.append(Failure("no_reply", "the bot did not answer"))
    previous_texts = set(previous.texts) if previous else set()
    for text in texts:
        if text in previous_texts:
            failures.append(Failure("repeated_previous", f"same text as the previous turn: {shorten(text)!r}"))
    for text in texts:
        seen[text] += 1
        if seen[text] == MAX_TIMES_SAME_TEXT + 1:
            failures.append(Failure("said_three_times", f"third time the bot says: {shorten(text)!r}"))
    return failures


def shorten(text: str, limit: int = 70) -> str:
    """One line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- the outcome ------------------------------------------------------------------------------

def open_database(path: Path) -> sqlite3.Connection:
    """The stack's SQLite database, read-only."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    connection.row_factory = sqlite3.Row
    return connection


def database_path(database_url: str) -> Path:
    """The file of a ``sqlite:///`` URL."""
    if not database_url.startswith("sqlite:///"):
        raise ValueError("the dialogue suite reads the outcome from a SQLite database")
    return Path(database_url.removeprefix("sqlite:///"))


def _clock(value: Any) -> str:
    return str(value or "")[:5]


def read_records(path: Path, conversation_id: str) -> dict[str, list[dict[str, Any]]]:
    """The bookings, complaints and handoff tickets one conversation created, oldest first."""
    with open_database(path) as connection:
        bookings = connection.execute(
            "SELECT code, service_id, day, start, status, name, mobile, id_number_masked, window_id "
            "FROM appointment_booking WHERE conversation_id = ? ORDER BY id", (conversation_id,)).fetchall()
        complaints = connection.execute(
            "SELECT number, category, status, description, location, mobile, anonymous "
            "FROM complaint WHERE conversation_id = ? ORDER BY id", (conversation_id,)).fetchall()
        tickets = connection.execute(
            "SELECT id, reason, status, emotion FROM handoff_ticket WHERE conversation_id = ? ORDER BY id",
            (conversation_id,)).fetchall()
    booking_rows = [{"code": r["code"], "service": r["service_id"], "day": str(r["day"]), "start": _clock(r["start"]),
                     "part": "morning" if _clock(r["start"]) < "12:00" else "afternoon", "status": r["status"],
                     "name": r["name"], "mobile": r["mobile"], "id_number_masked": r["id_number_masked"],
                     "window": r["window_id"]} for r in bookings]
    complaint_rows = [{"number": r["number"], "category": r["category"], "status": r["status"],
                       "description": r["description"], "location": r["location"], "mobile": r["mobile"],
                       "anonymous": bool(r["anonymous"])} for r in complaints]
    ticket_rows = []
    for r in tickets:
        emotion = json.loads(r["emotion"]) if r["emotion"] else None
        ticket_rows.append({"id": r["id"], "reason": r["reason"], "status": r["status"],
                            "emotion": (emotion or {}).get("label") if isinstance(emotion, dict) else None})
    return {"booking": booking_rows, "complaint": complaint_rows, "handoff": ticket_rows}


def _matches(expected: Any, actual: Any) -> bool:
    """True when the actual value equals the expected one, or one of them when a list is expected."""
    options = expected if isinstance(expected, list) else [expected]
    for option in options:
        if option is None or actual is None:
            if option is None and actual is None:
                return True
        elif isinstance(option, bool) or isinstance(actual, bool):
            if option is actual:
                return True
        elif str(option) == str(actual):
            return True
    return False


def _clock_value(value: Any) -> Any:
    """A start time as HH:MM; YAML reads an unquoted 10:00 as the sexagesimal integer 600."""
    if isinstance(value, list):
        return [_clock_value(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value // 60:02d}:{value % 60:02d}"
    return value


def check_outcome(outcome: dict[str, Any], records: dict[str, list[dict[str, Any]]]) -> list[Failure]:
    """Compares what the conversation left in the database with what the dialogue expects."""
    failures = []
    for kind in RECORD_KINDS:
        spec, rows = outcome.get(kind), records.get(kind, [])
        if spec == "any":
            continue
        if spec is None:
            if rows:
                failures.append(Failure(f"outcome_{kind}", f"expected no {kind}, found {_describe(rows[-1])}"))
            continue
        count = spec.get("count", 1)
        if len(rows) != count:
            failures.append(Failure(f"outcome_{kind}", f"expected {count} {kind} record(s), found {len(rows)}"
                                    + (f": {_describe(rows[-1])}" if rows else "")))
            if not rows:
                continue
        row = rows[-1]
        for name, expected in spec.items():
            if name == "count":
                continue
            if name.endswith("_contains"):
                actual = row.get(name.removesuffix("_contains")) or ""
                missing = [w for w in _as_list(expected, name) if w not in actual]
                if missing:
                    failures.append(Failure(f"outcome_{kind}", f"{kind}.{name.removesuffix('_contains')} "
                                            f"{actual!r} lacks {missing}"))
            elif not _matches(_clock_value(expected) if name == "start" else expected, row.get(name)):
                failures.append(Failure(f"outcome_{kind}", f"{kind}.{name} is {row.get(name)!r}, expected {expected!r}"))
    return failures


def _describe(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={shorten(str(v), 30)}" for k, v in row.items() if v not in (None, ""))


# --- talking to the product -------------------------------------------------------------------

class Widget:
    """One citizen's widget connection: the session frame, then messages until their ack."""

    def __init__(self, websocket: Any) -> None:
        self.websocket = websocket
        self.conversation_id = ""

    async def open(self) -> None:
        frame = json.loads(await asyncio.wait_for(self.websocket.recv(), timeout=30))
        if frame.get("type") != "session":
            raise RuntimeError(f"expected a session frame, got {frame}")
        self.conversation_id = frame["conversation_id"]

    async def send(self, text: str, timeout: float = TURN_TIMEOUT_SECONDS) -> tuple[list[dict[str, Any]], str | None]:
        """Sends one message; returns the bot's messages before its ack, and an error code if refused."""
        client_id = f"d-{uuid.uuid4().hex[:20]}"
        await self.websocket.send(json.dumps({"type": "message", "client_id": client_id, "text": text},
                                             ensure_ascii=False))
        replies: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return replies, "timeout"
            try:
                frame = json.loads(await asyncio.wait_for(self.websocket.recv(), timeout=remaining))
            except TimeoutError:
                return replies, "timeout"
            kind = frame.get("type")
            if kind == "message" and (frame.get("message") or {}).get("sender") in BOT_SENDERS:
                message = frame["message"]
                replies.append({"sender": message.get("sender"), "text": message.get("text") or "",
                                "buttons": message.get("buttons") or []})
            elif kind == "ack" and frame.get("client_id") == client_id:
                return replies, frame.get("warning")
            elif kind == "error" and frame.get("client_id") in (client_id, None):
                return replies, str(frame.get("code") or "error")


def websocket_url(service_url: str) -> str:
    """The widget's websocket for new conversations on this service."""
    return re.sub(r"^http", "ws", service_url.rstrip("/")) + "/ws/conversations"


def choose_button(click: str, previous: TurnRecord | None) -> dict[str, str] | None:
    """The button of the previous turn whose title contains the text (exact title first)."""
    buttons = previous.buttons if previous else []
    exact = [b for b in buttons if (b.get("title") or "").strip() == click]
    return (exact or [b for b in buttons if click in (b.get("title") or "")] or [None])[0]


async def run_dialogue(service_url: str, database: Path, dialogue: Dialogue) -> DialogueResult:
    """Plays one dialogue through a fresh widget connection and judges it."""
    from websockets.asyncio.client import connect

    result = DialogueResult(id=dialogue.id, theme=dialogue.theme, file=dialogue.file, title=dialogue.title)
    started = time.monotonic()
    variables: dict[str, str] = {}
    seen: Counter[str] = Counter()
    try:
        async with connect(websocket_url(service_url), open_timeout=30, max_size=2**22) as websocket:
            widget = Widget(websocket)
            await widget.open()
            result.conversation_id = widget.conversation_id
            previous: TurnRecord | None = None
            for number, turn in enumerate(dialogue.turns, start=1):
                failures: list[Failure] = []
                if not turn.wanted(previous):
                    result.turns.append(TurnRecord(said=turn.shown, replies=[], skipped=True))
                    continue
                if turn.click is not None:
                    button = choose_button(turn.click, previous)
                    if button is None:
                        failures.append(Failure("buttons", f"no button {turn.click!r} to click; typed it instead"))
                        text = turn.click
                    else:
                        text = button.get("payload") or button.get("title") or turn.click
                else:
                    text, missing = substitute(turn.say or "", variables)
                    if missing:
                        result.failures.append(Failure("capture", f"no value for {missing}; dialogue stopped", number))
                        break
                turn_started = time.monotonic()
                replies, error = await widget.send(text)
                record = TurnRecord(said=turn.shown if turn.click is not None else text, replies=replies,
                                    seconds=round(time.monotonic() - turn_started, 2), note=turn.note)
                if error:
                    failures.append(Failure("error", f"the service answered {error}"))
                failures += check_turn(turn, record, variables)
                failures += check_global_rules(record, previous, seen)
                for failure in failures:
                    failure.turn = number
                record.failures = failures
                result.turns.append(record)
                result.failures += failures
                previous = record
                if error == "timeout":
                    break
        result.records = read_records(database, result.conversation_id)
        result.failures += check_outcome(dialogue.outcome, result.records)
    except Exception as exc:  # noqa: BLE001 - one broken dialogue is reported, the suite goes on
        result.failures.append(Failure("error", f"{type(exc).__name__}: {exc}"))
    result.seconds = round(time.monotonic() - started, 2)
    return result


async def run_suite(service_url: str, database: Path, dialogues: list[Dialogue],
                    concurrency: int = DEFAULT_CONCURRENCY, progress: bool = True) -> SuiteResult:
    """Runs every dialogue, ``concurrency`` conversations at a time, in the suite's order."""
    gate = asyncio.Semaphore(max(1, concurrency))
    started = time.monotonic()
    done = 0

    async def one(dialogue: Dialogue) -> DialogueResult:
        nonlocal done
        async with gate:
            result = await run_dialogue(service_url, database, dialogue)
        done += 1
        if progress:
            mark = "ok  " if result.passed else "FAIL"
            print(f"[{done:3d}/{len(dialogues)}] {mark} {result.id} ({result.seconds:.0f}s)", flush=True)
        return result

    results = await asyncio.gather(*(one(d) for d in dialogues))
    return SuiteResult(results=list(results), seconds=round(time.monotonic() - started, 1))


# --- the report -------------------------------------------------------------------------------

def format_failure(dialogue: DialogueResult) -> str:
    """The failing turn with what the citizen said and what the bot answered, and the other failures."""
    lines = [f"FAIL {dialogue.id} ({dialogue.file}) {dialogue.title}"]
    first = dialogue.first_failure
    assert first is not None
    if first.turn is not None and first.turn <= len(dialogue.turns):
        record = dialogue.turns[first.turn - 1]
        lines.append(f"  turn {first.turn}: citizen 「{record.said}」")
        for text in record.texts or ["(no reply)"]:
            lines.append(f"    bot: {shorten(text, 160)}")
        if record.buttons:
            lines.append(f"    buttons: {[b.get('title') for b in record.buttons]}")
        if record.note:
            lines.append(f"    clerk: {record.note}")
    for failure in dialogue.failures[:6]:
        where = f"turn {failure.turn}" if failure.turn is not None else "outcome"
        lines.append(f"  - {where} [{failure.check}] {failure.detail}")
    if len(dialogue.failures) > 6:
        lines.append(f"  - ... {len(dialogue.failures) - 6} more")
    return "\n".join(lines)


def failure_classes(suite: SuiteResult) -> Counter[str]:
    """Failing dialogues by the kind of their first failure."""
    return Counter(r.first_failure.check for r in suite.results if r.first_failure)


def format_report(suite: SuiteResult) -> str:
    """Every failing dialogue, then the pass rate by theme and overall."""
    lines = [format_failure(r) for r in suite.results if not r.passed]
    lines.append("")
    themes = sorted({r.theme for r in suite.results})
    for theme in themes:
        rows = [r for r in suite.results if r.theme == theme]
        passed = sum(1 for r in rows if r.passed)
        lines.append(f"  {theme:<18} {passed:3d}/{len(rows):<3d}")
    classes = failure_classes(suite)
    if classes:
        lines.append("first failure by check: " + ", ".join(f"{k} {v}" for k, v in classes.most_common()))
    lines.append(f"dialogues passed: {suite.passed}/{len(suite.results)} ({100 * suite.pass_rate:.1f}%) "
                 f"in {suite.seconds:.0f}s")
    return "\n".join(lines)


def write_results(suite: SuiteResult, path: Path = RESULTS_PATH) -> Path:
    """Writes every dialogue's turns, replies, failures and records as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "passed": suite.passed, "total": len(suite.results), "pass_rate": round(suite.pass_rate, 4),
        "seconds": suite.seconds, "failure_classes": dict(failure_classes(suite)),
        "dialogues": [{**asdict(r), "passed": r.passed} for r in suite.results],
    }
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return path


# --- a stack of its own -----------------------------------------------------------------------

@contextmanager
def started_stack(model: Path | None = None, keep: bool = False) -> Iterator[Any]:
    """Rasa, the action server and the service on free ports with a temporary database, like live_stack."""
    import socket

    sys.path.insert(0, str(ROOT / "scripts"))
    from stack import Stack, StackConfig
    from train import train

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    var_dir = Path(tempfile.mkdtemp(prefix="dialogues-"))
    # A private copy: another engineer's training may replace models/current.tar.gz meanwhile.
    private_model = var_dir / "model.tar.gz"
    shutil.copy(model or train(), private_model)
    config = StackConfig(var_dir=var_dir, model_path=private_model, service_port=free_port(),
                         rasa_port=free_port(), actions_port=free_port(),
                         database_url=f"sqlite:///{var_dir / 'service.db'}", extra_env=dict(STACK_ENV))
    stack = Stack(config, log_file=var_dir / "stack.log")
    env = stack.environment()
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "-m", "service.migrate"], cwd=ROOT, env=env, check=True)
    subprocess.run([python, "-m", "service.bootstrap"], cwd=ROOT, env=env, check=True)
    print(f"[dialogues] starting a stack in {var_dir} ...", flush=True)
    stack.start()
    try:
        stack.wait_healthy(timeout=420)
        yield stack
    except Exception:
        print((var_dir / "stack.log").read_text(errors="replace")[-5000:])
        raise
    finally:
        stack.stop()
        if not keep:
            shutil.rmtree(var_dir, ignore_errors=True)


def main() -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES_DIR, help="folder of dialogue YAML files")
    parser.add_argument("--only", action="append", help="glob on dialogue ids or themes (repeatable)")
    parser.add_argument("--service-url", help="a running service (default: start a stack on free ports)")
    parser.add_argument("--database", type=Path, help="that service's SQLite file (with --service-url)")
    parser.add_argument("--model", type=Path, help="a trained model (default: scripts/train.py, cached)")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--min-pass-rate", type=float, default=DEFAULT_MIN_PASS_RATE)
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="where to write the JSON results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary stack folder (logs, databases)")
    parser.add_argument("--list", action="store_true", help="list the dialogues by theme and exit")
    args = parser.parse_args()

    dialogues = load_suite(args.dialogues, args.only)
    if args.list:
        for theme, count in sorted(Counter(d.theme for d in dialogues).items()):
            print(f"{theme:<18} {count}")
        print(f"{'total':<18} {len(dialogues)}")
        return 0
    if not dialogues:
        print("no dialogue matches", file=sys.stderr)
        return 2
    print(f"[dialogues] {len(dialogues)} dialogues, {args.concurrency} at a time; "
          f"clock frozen at {STACK_ENV['APPOINTMENTS__FROZEN_CLOCK']} when the suite starts the stack", flush=True)
    if args.service_url:
        if not args.database:
            parser.error("--service-url needs --database (the service's SQLite file)")
        suite = asyncio.run(run_suite(args.service_url, args.database, dialogues, args.concurrency))
    else:
        with started_stack(args.model, keep=args.keep) as stack:
            suite = asyncio.run(run_suite(stack.config.service_url, database_path(stack.config.database_url),
                                          dialogues, args.concurrency))
    print(format_report(suite))
    print(f"results: {write_results(suite, args.results)}")
    if suite.pass_rate < args.min_pass_rate:
        print(f"FAILED: pass rate {100 * suite.pass_rate:.1f}% is below {100 * args.min_pass_rate:.1f}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

