"""Whether the Rasa model is behind the knowledge base, and the background job that retrains it.

The Rasa NLU data is generated from the knowledge base (``faq.nlu_generator``:
every question variant) and the homophone reader's vocabulary is the
catalogue's service names and aliases. Those, and only those, are the NLU
inputs of the knowledge base; ``nlu_digest`` hashes them. An answer template,
a fee or a list of materials is read at run time and never needs retraining.

The model is behind when the current digest differs from the one it was last
trained from: the digest of the last successful retraining run, or, before any,
the digest before the first console revision (the files the deployed model was
built from). No revision and no run: nothing is known to be behind.

The job runs one configurable command (``FaqSettings.retrain_command``, by
default ``scripts/train.py``) as a subprocess in a background thread, one at a
time per process; a finished run is stored (``FaqRetrainRun``) with the digest
it started from and the tail of its output.
"""

import hashlib
import json
import logging
import os
import signal
import subprocess
import threading
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations.models import utcnow
from faq.knowledge import fingerprint, read_sources
from faq.models import FaqRetrainRun, FaqRevision, RetrainRead
from faq.nlu_generator import faq_examples
from service.attempts import as_utc
from service.database import Database
from service.errors import ConflictError

logger = logging.getLogger(__name__)
MAX_LOG_LINE_CHARS = 500


class RetrainStatus(StrEnum):
    """Where the retraining job is."""

    idle = "idle"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


_DIGESTS: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def nlu_digest(root: Path) -> str:
    """Hashes what the NLU model learns from a (valid) knowledge base: question variants, service names, aliases."""
    marks = fingerprint(root)
    key = (str(root.resolve()), marks)
    if key in _DIGESTS:
        return _DIGESTS[key]
    sources = read_sources(root)
    vocabulary = sorted({term for service in sources.services.values() for term in (service.name, *service.aliases)})
    # Unreadable files generate no training data; their marks stand in, so a repair changes the digest.
    examples = [str(mark) for mark in marks] if sources.problems else faq_examples(root)
    payload = json.dumps({"examples": examples, "vocabulary": vocabulary}, ensure_ascii=False)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
    if len(_DIGESTS) > 16:
        _DIGESTS.clear()
    _DIGESTS[key] = digest
    return digest


def trained_digest(*, db_session: Session) -> str | None:
    """The NLU digest the model was last trained from, when known."""
    run = db_session.scalars(select(FaqRetrainRun).where(FaqRetrainRun.status == RetrainStatus.succeeded)
                             .order_by(FaqRetrainRun.finished_at.desc(), FaqRetrainRun.id.desc())).first()
    if run is not None:
        return run.nlu_digest
    first = db_session.scalars(select(FaqRevision).order_by(FaqRevision.id)).first()
    return first.nlu_before if first is not None else None


def needs_retraining(*, db_session: Session, root: Path) -> bool:
    """Tells whether the knowledge base's NLU inputs changed since the model was trained."""
    reference = trained_digest(db_session=db_session)
    return reference is not None and reference != nlu_digest(root)


@dataclass
class RetrainJob:
    """One run of the retraining command."""

    command: list[str]
    started_by: str
    nlu_digest: str
    started_at: datetime = field(default_factory=utcnow)
    status: RetrainStatus = RetrainStatus.running
    finished_at: datetime | None = None
    exit_code: int | None = None
    timed_out: bool = False
    log_tail: list[str] = field(default_factory=list)


def job_read(job: RetrainJob | None) -> RetrainRead:
    """The job as the API shows it (idle when there is none)."""
    if job is None:
        return RetrainRead(status=RetrainStatus.idle)
    return RetrainRead(status=job.status, started_by=job.started_by, started_at=job.started_at,
                       finished_at=job.finished_at, exit_code=job.exit_code, timed_out=job.timed_out,
                       log_tail=list(job.log_tail))


def last_run(*, db_session: Session) -> RetrainJob | None:
    """The last stored run, as a job, for the state shown after a restart."""
    run = db_session.scalars(select(FaqRetrainRun).order_by(FaqRetrainRun.finished_at.desc(),
                                                             FaqRetrainRun.id.desc())).first()
    if run is None:
        return None
    return RetrainJob(command=json.loads(run.command), started_by=run.started_by, nlu_digest=run.nlu_digest,
                      started_at=as_utc(run.started_at), status=RetrainStatus(run.status),
                      finished_at=as_utc(run.finished_at),
                      exit_code=run.exit_code, timed_out=run.timed_out,
                      log_tail=run.log_tail.splitlines())


class Retrainer:
    """Runs the retraining command in the background, one run at a time, and keeps its state."""

    def __init__(self, *, command: list[str], cwd: Path, timeout_seconds: float, log_lines: int,
                 database: Database) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.timeout_seconds = timeout_seconds
        self.log_lines = log_lines
        self.database = database
        self._lock = threading.Lock()
        self._job: RetrainJob | None = None
        self._process: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self._tail: deque[str] = deque(maxlen=log_lines)

    def current(self) -> RetrainJob | None:
        """A snapshot of this process's latest job (running or finished), or None."""
        with self._lock:
            if self._job is None:
                return None
            return replace(self._job, log_tail=list(self._tail))

    def is_running(self) -> bool:
        """Tells whether a run is under way."""
        with self._lock:
            return self._job is not None and self._job.status == RetrainStatus.running

    def start(self, *, started_by: str, nlu_digest: str) -> RetrainJob:
        """Starts a run; refuses (409) while one is under way."""
        with self._lock:
            if self._job is not None and self._job.status == RetrainStatus.running:
                raise ConflictError("a retraining run is already under way", code="retrain_running")
            job = self._job = RetrainJob(command=list(self.command), started_by=started_by, nlu_digest=nlu_digest)
            self._tail = deque(maxlen=self.log_lines)
            try:
                self._process = subprocess.Popen(
                    self.command, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
                    start_new_session=True)
            except OSError as exc:
                self._tail.append(f"cannot start {self.command[0]}: {exc}")
                process = None
            else:
                process = self._process
                self._thread = threading.Thread(target=self._follow, args=(process, job), name="faq-retrain",
                                                daemon=True)
                self._thread.start()
        if process is None:
            self._finish(job, None, timed_out=False)
        return self.current() or job

    def wait(self, timeout: float | None = None) -> bool:
        """Waits for the run under way to finish; tells whether it did."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.is_running()

    def stop(self) -> None:
        """Ends the run under way (at shutdown): its process group is terminated."""
        process = self._process
        if process is not None and process.poll() is None:
            self._kill(process)
        self.wait(10)

    def _kill(self, process: subprocess.Popen[str]) -> None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _follow(self, process: subprocess.Popen[str], job: RetrainJob) -> None:
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            self._kill(process)

        timer = threading.Timer(self.timeout_seconds, expire)
        timer.daemon = True
        timer.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                with self._lock:
                    self._tail.append(line.rstrip("\n")[:MAX_LOG_LINE_CHARS])
            exit_code = process.wait()
        finally:
            timer.cancel()
        self._finish(job, None if timed_out.is_set() else exit_code, timed_out=timed_out.is_set())

    def _finish(self, job: RetrainJob, exit_code: int | None, *, timed_out: bool) -> None:
        """Stores the run, then shows it finished: whoever sees it finished also finds it stored."""
        with self._lock:
            tail = list(self._tail)
        status = RetrainStatus.succeeded if exit_code == 0 else RetrainStatus.failed
        finished_at = utcnow()
        try:
            with self.database.session() as db_session:
                db_session.add(FaqRetrainRun(
                    status=status, command=json.dumps(job.command, ensure_ascii=False), started_by=job.started_by,
                    started_at=job.started_at, finished_at=finished_at, exit_code=exit_code, timed_out=timed_out,
                    log_tail="\n".join(tail), nlu_digest=job.nlu_digest))
        except Exception:  # noqa: BLE001 - the outcome stays visible in memory
            logger.exception("could not store the retraining run")
        with self._lock:
            job.exit_code, job.timed_out, job.finished_at, job.status = exit_code, timed_out, finished_at, status
            job.log_tail = tail
            self._process = None
