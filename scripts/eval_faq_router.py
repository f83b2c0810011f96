"""FAQ answers through the whole product: ``python scripts/eval_faq_router.py [--min-accuracy 0.97]``.

``python -m faq.evaluate`` measures the matcher alone. This measures what a
citizen gets: it starts the real stack (Rasa, action server, service) on free
ports with a temporary database, sends every held-out FAQ question
(``faq/heldout*.yml``, the sets ``faq.evaluate`` lists) as the first message of
a fresh conversation through the router (``POST /api/conversations`` with the
integration key, then ``POST /api/conversations/{id}/messages`` with the
conversation's token), and finds out what happened:

- which FAQ entry answered, or that the FAQ asked which entry was meant, or
  did not know: from the FAQ query log (``faq_query``, written by
  ``/internal/faq/answer`` for every question the FAQ actions relay), read from
  the service's database; the clarification's candidates from the reply's
  buttons;
- when the right entry did not answer, the intent the message was routed to
  (an emotion, ``inform``, a booking ...): from Rasa's tracker.

Prints, per set, for the earlier sets pooled (each guided some tuning), for
the newest set alone (it guided none) and for all sets pooled: top-1 answered
correctly, clarified, answered wrong, unknown and misrouted (by routed intent),
then every miss; writes the figures and misses as JSON; exits 1 when all
held-out questions pooled are answered correctly less often than
``--min-accuracy``. Questions that are also question variants of an entry
(training data) are skipped, as in ``faq.evaluate``.
"""

import argparse
import asyncio
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(ROOT))

from faq.evaluate import HELDOUT_SETS  # noqa: E402
from faq.knowledge import read_heldout, read_sources  # noqa: E402
from faq.matcher import clean_text  # noqa: E402
from faq.settings import FAQ_DIR  # noqa: E402

RESULTS = ROOT / "var" / "results" / "faq_router.json"
CHOOSE_PREFIX = "/faq_choose"
# The most recent set guided no tuning: the earlier ones are also reported pooled without it.
NEWEST_SET = HELDOUT_SETS[-1][0]


@dataclass
class Probe:
    """One held-out question and what the product did with it."""

    set_name: str
    expected: str
    question: str
    conversation_id: str = ""
    outcome: str = ""
    entry_id: str | None = None
    candidates: list[str] = field(default_factory=list)
    intent: str | None = None
    intent_confidence: float | None = None
    emotion: str | None = None
    actions: list[str] = field(default_factory=list)
    reply: str = ""
    error: str | None = None
    seconds: float = 0.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_probes(root: Path, names: list[str] | None) -> list[Probe]:
    """Every held-out question of the chosen sets that is not also a training variant."""
    sources = read_sources(root)
    entries = {entry.id for entry in sources.entries}
    trained = {clean_text(q).replace(" ", "") for entry in sources.entries for q in entry.questions}
    probes = []
    for name, _ in HELDOUT_SETS:
        path = root / name
        if (names and name not in names) or not path.exists():
            continue
        for expected, questions in read_heldout(path).items():
            if expected not in entries:
                continue
            for question in questions:
                if clean_text(question).replace(" ", "") not in trained:
                    probes.append(Probe(set_name=name, expected=expected, question=question))
    return probes


def chosen_entries(replies: list[dict]) -> list[str]:
    """The entries a clarifying reply's buttons offer (``/faq_choose{"faq_entry": ...}``)."""
    found = []
    for reply in replies:
        for button in reply.get("buttons") or []:
            payload = str(button.get("payload") or "")
            if payload.startswith(CHOOSE_PREFIX):
                try:
                    entry = json.loads(payload[len(CHOOSE_PREFIX):]).get("faq_entry")
                except (ValueError, AttributeError):
                    continue
                if entry and not str(entry).startswith("online."):
                    found.append(str(entry))
    return found


def read_tracker(probe: Probe, tracker: dict) -> None:
    """The routed intent, the emotion and the actions the bot ran for the message.

    Read from the message's own event: a fallback reverts it, which empties ``latest_message``.
    """
    users = [event for event in tracker.get("events") or [] if event.get("event") == "user"]
    latest = (users[-1].get("parse_data") if users else None) or tracker.get("latest_message") or {}
    intent = latest.get("intent") or {}
    probe.intent = intent.get("name")
    probe.intent_confidence = round(float(intent.get("confidence") or 0.0), 3)
    probe.emotion = (latest.get("emotion") or {}).get("label")
    probe.actions = [event["name"] for event in tracker.get("events") or []
                     if event.get("event") == "action" and event.get("name")
                     and event["name"] not in ("action_listen", "action_session_start")]


@dataclass(frozen=True)
class Target:
    """Where the probes go: the service, its integration key, its database, and Rasa."""

    service_url: str
    api_key: str
    database: Path
    rasa_url: str
    rasa_token: str


def logged_answer(database: Path, conversation_id: str) -> tuple[str, str | None] | None:
    """(status, entry id) of the first FAQ question logged in a conversation, if any."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        row = connection.execute("SELECT status, entry_id FROM faq_query WHERE conversation_id = ? ORDER BY id "
                                 "LIMIT 1", (conversation_id,)).fetchone()
    finally:
        connection.close()
    return (str(row[0]), row[1]) if row else None


async def ask(client: httpx.AsyncClient, limit: asyncio.Semaphore, probe: Probe, target: Target) -> None:
    """Opens a conversation and sends the question; unless the right entry answered, reads the routed
    intent from Rasa's tracker (the log row is written within half a second of the reply)."""
    async with limit:
        started = time.perf_counter()
        try:
            opened = await client.post(f"{target.service_url}/api/conversations",
                                       headers={"X-API-Key": target.api_key})
            opened.raise_for_status()
            body = opened.json()
            probe.conversation_id = body["conversation_id"]
            response = await client.post(f"{target.service_url}/api/conversations/{probe.conversation_id}/messages",
                                         headers={"Authorization": f"Bearer {body['access_token']}"},
                                         json={"text": probe.question})
            if response.status_code != 200:
                probe.error = f"HTTP {response.status_code}"
            else:
                replies = response.json().get("replies") or []
                probe.reply = " | ".join(str(r.get("text") or "")[:60] for r in replies)
                probe.candidates = chosen_entries(replies)
            logged = await asyncio.to_thread(logged_answer, target.database, probe.conversation_id)
            if logged != ("answered", probe.expected):
                tracker = await client.get(f"{target.rasa_url}/conversations/{probe.conversation_id}/tracker",
                                           params={"token": target.rasa_token, "include_events": "AFTER_RESTART"})
                if tracker.status_code == 200:
                    read_tracker(probe, tracker.json())
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            probe.error = f"{exc.__class__.__name__}: {exc}"[:200]
        probe.seconds = round(time.perf_counter() - started, 3)


def wait_for_faq_log(database: Path, quiet_seconds: float = 1.5, timeout: float = 30.0) -> int:
    """Waits until the service has written its query log (it writes behind the replies, in batches):
    the row count has not changed for ``quiet_seconds``. Returns the count."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
        try:
            count = connection.execute("SELECT count(*) FROM faq_query").fetchone()[0]
        finally:
            connection.close()
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            break
        time.sleep(0.25)
    return last


def read_faq_log(database: Path) -> dict[str, tuple[str, str | None]]:
    """conversation id -> (status, entry id) of the first FAQ question logged in it."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT conversation_id, status, entry_id FROM faq_query ORDER BY id").fetchall()
    finally:
        connection.close()
    log: dict[str, tuple[str, str | None]] = {}
    for conversation_id, status, entry_id in rows:
        log.setdefault(str(conversation_id), (str(status), entry_id))
    return log


def classify(probe: Probe, log: dict[str, tuple[str, str | None]]) -> None:
    """Sets the probe's outcome from the FAQ log (or, when the FAQ was not asked, the routed intent)."""
    if probe.error:
        probe.outcome = "error"
        return
    logged = log.get(probe.conversation_id)
    if logged is None:
        probe.outcome = "misrouted"
        return
    status, probe.entry_id = logged
    if status == "answered":
        probe.outcome = "answered right" if probe.entry_id == probe.expected else "answered wrong"
    elif status == "clarify":
        probe.outcome = "clarified, right offered" if probe.expected in probe.candidates \
            else "clarified, right missing"
    else:
        probe.outcome = "unknown"


def figures(probes: list[Probe]) -> dict:
    """Counts and shares of one group of probes."""
    total = len(probes)
    outcomes = Counter(p.outcome for p in probes)
    right = outcomes["answered right"]
    clarified = outcomes["clarified, right offered"] + outcomes["clarified, right missing"]
    return {
        "questions": total,
        "answered_right": right,
        "top1_answered_correctly": round(right / total, 4) if total else 0.0,
        "clarified": clarified,
        "clarified_share": round(clarified / total, 4) if total else 0.0,
        "outcomes": dict(sorted(outcomes.items())),
        "misrouted_by_intent": dict(Counter(p.intent or "-" for p in probes if p.outcome == "misrouted")
                                    .most_common()),
    }


def print_group(title: str, result: dict) -> None:
    """Prints one group's figures."""
    total = result["questions"]
    print(f"\n== {title}: {total} questions")
    print(f"top-1 answered correctly: {result['top1_answered_correctly']:.2%} "
          f"({result['answered_right']}/{total}); clarified: {result['clarified_share']:.2%} "
          f"({result['clarified']})")
    for outcome, count in result["outcomes"].items():
        print(f"  {outcome:28s} {count:4d}  ({count / total:.1%})")
    if result["misrouted_by_intent"]:
        print("  misrouted by intent: " + ", ".join(f"{intent} x{count}"
                                                    for intent, count in result["misrouted_by_intent"].items()))


def describe(probe: Probe) -> str:
    """One line about a miss."""
    got = {"misrouted": f"routed to {probe.intent} ({probe.intent_confidence}) -> {','.join(probe.actions) or '-'}",
           "answered wrong": f"answered {probe.entry_id}",
           "clarified, right offered": f"clarified {probe.candidates}",
           "clarified, right missing": f"clarified {probe.candidates}",
           "unknown": "unknown",
           "error": probe.error or "error"}.get(probe.outcome, probe.outcome)
    intent = "" if probe.outcome == "misrouted" else f" [intent {probe.intent} {probe.intent_confidence}]"
    emotion = f" [emotion {probe.emotion}]" if probe.emotion and probe.emotion != "neutral" else ""
    return f"  {probe.set_name}: {probe.question} | expected {probe.expected} | {got}{intent}{emotion}"


async def run_probes(probes: list[Probe], target: Target, concurrency: int) -> None:
    """Sends every probe, at most ``concurrency`` conversations at a time."""
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency * 3)) as client:
        await asyncio.gather(*(ask(client, limit, probe, target) for probe in probes))


def start_stack(model: Path | None):
    """A stack on free ports with a temporary database; returns it, its config and the database file."""
    from stack import Stack, StackConfig

    if model is None:
        from train import train

        model = train()
    var_dir = Path(tempfile.mkdtemp(prefix="faq-router-"))
    database = var_dir / "service.db"
    config = StackConfig(var_dir=var_dir, model_path=model, service_port=free_port(), rasa_port=free_port(),
                         actions_port=free_port(), database_url=f"sqlite:///{database}",
                         # Every simulated citizen comes from 127.0.0.1: lift the per-address limit.
                         extra_env={"ATTEMPTS__MESSAGES_PER_ADDRESS": "1000000"})
    stack = Stack(config, log_file=var_dir / "stack.log")
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "service.migrate"], cwd=ROOT,
                   env=stack.environment(), check=True, stdout=subprocess.DEVNULL)
    print(f"[faq-router] starting a stack in {var_dir} ...", flush=True)
    started = time.perf_counter()
    stack.start()
    try:
        stack.wait_healthy(timeout=420)
    except Exception:
        stack.stop()
        print((var_dir / "stack.log").read_text(errors="replace")[-4000:])
        raise
    print(f"[faq-router] stack healthy after {time.perf_counter() - started:.0f}s", flush=True)
    return stack, config, database


def main() -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-accuracy", type=float, default=0.97,
                        help="exit 1 when top-1 answered correctly over all held-out questions is below this "
                             "(0..1, default 0.97)")
    parser.add_argument("--concurrency", type=int, default=4, help="conversations in flight at once (default 4)")
    parser.add_argument("--model", type=Path, help="model archive (default: scripts/train.py, cached)")
    parser.add_argument("--sets", nargs="*", help="only these held-out files (e.g. heldout_phone.yml)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results (default {RESULTS})")
    args = parser.parse_args()
    if not 0.0 <= args.min_accuracy <= 1.0:
        parser.error("--min-accuracy is a fraction between 0 and 1")
    probes = load_probes(FAQ_DIR, args.sets)
    if not probes:
        parser.error("no held-out questions found")
    stack, config, database = start_stack(args.model)
    target = Target(service_url=config.service_url, api_key=config.integration_api_key, database=database,
                    rasa_url=f"http://127.0.0.1:{config.rasa_port}", rasa_token=config.rasa_token)
    try:
        # Warm-up: the first messages load lazily initialised parts of the pipeline.
        warmup = [Probe(set_name="warmup", expected="-", question=q) for q in ("你好", "办护照要带什么材料")]
        asyncio.run(run_probes(warmup, target, 2))
        started = time.perf_counter()
        asyncio.run(run_probes(probes, target, max(1, args.concurrency)))
        elapsed = time.perf_counter() - started
        wait_for_faq_log(database)
        log = read_faq_log(database)
    finally:
        stack.stop()
        # The temporary database and logs are only needed while the stack runs.
        shutil.rmtree(config.var_dir, ignore_errors=True)
    for probe in probes:
        classify(probe, log)
    print(f"\n[faq-router] {len(probes)} questions in {elapsed:.0f}s "
          f"({len(probes) / elapsed:.1f}/s, {args.concurrency} at a time)")

    groups: dict[str, dict] = {}
    roles = dict(HELDOUT_SETS)
    set_names = [name for name, _ in HELDOUT_SETS if any(p.set_name == name for p in probes)]
    for name in set_names:
        groups[name] = figures([p for p in probes if p.set_name == name])
        print_group(f"{name}: {roles[name]}", groups[name])
    earlier = [p for p in probes if p.set_name != NEWEST_SET]
    if earlier and NEWEST_SET in set_names:
        groups["earlier sets pooled"] = figures(earlier)
        print_group("earlier sets pooled (each guided some tuning)", groups["earlier sets pooled"])
    groups["all sets pooled"] = figures(probes)
    print_group("all sets pooled", groups["all sets pooled"])

    misses = [p for p in probes if p.outcome != "answered right"]
    print(f"\nmisses ({len(misses)}):")
    for probe in sorted(misses, key=lambda p: (p.outcome, p.set_name, p.expected)):
        print(describe(probe))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"figures": groups, "misses": [asdict(p) for p in misses],
                                     "seconds": round(elapsed, 1)}, ensure_ascii=False, indent=2),
                         encoding="utf-8")
    print(f"\nresults written to {args.json}")
    pooled = groups["all sets pooled"]["top1_answered_correctly"]
    if pooled < args.min_accuracy:
        print(f"FAIL: top-1 answered correctly {pooled:.2%} over all held-out questions is below "
              f"{args.min_accuracy:.0%}")
        return 1
    print(f"OK: top-1 answered correctly {pooled:.2%} over all held-out questions (at least {args.min_accuracy:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
