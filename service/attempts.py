"""Attempt limits: counted failures with a growing delay, and plain rate limits.

Every counter is keyed by a string naming what is counted, e.g.
``login:user:<name>``, ``login:ip:<addr>``, ``lookup:booking:<code>:<requester>``
or ``messages:conversation:<id>``. The counters live in the database (table
``attempt_counter``), so every process and instance sharing the database sees
the same counts. Storage sits behind ``AttemptStore``; a Redis store (INCR with
EXPIRE, or a small Lua script per operation) can implement the same four
operations without changing any caller.

``Attempts`` is what callers use:

- ``check(key)``: seconds the key must still wait, 0 when it may try;
- ``record_failure(key, policy)``: counts a failure; past the policy's free
  failures each further one makes the key wait longer (1 s, 2 s, 4 s ... capped);
- ``reset(key)``: forgets the key's failures (after a success);
- ``hit(key, limit, window_seconds)``: a plain rate limit, returns the seconds
  until the next request is allowed, 0 when this one is.

Transactions (see service/database.py): the database store works inside the
caller's session and only flushes. A refused request must still keep its
recorded failure, so callers record the failure, leave the session (which
commits), and only then raise the refusal.

Time comes from one injectable clock (``app.state.attempt_clock``, UTC, the
service's ``utcnow`` by default), so tests move time instead of sleeping.
"""

import hashlib
import logging
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, DateTime, Integer, String, case, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.requests import HTTPConnection

from conversations.models import utcnow
from service.database import Base
from service.errors import ServiceError

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
KEY_MAX_CHARS = 255
# Share of counter writes that also delete expired counters (keeps the table small without a job).
PURGE_PROBABILITY = 1 / 64


# --- settings ---------------------------------------------------------------------------------

class FailurePolicy(BaseModel):
    """How failures of one key are answered: free tries, then a delay that grows with each failure."""

    model_config = ConfigDict(frozen=True)

    free_failures: int = Field(default=5, ge=1)
    first_delay_seconds: float = Field(default=1.0, gt=0)
    max_delay_seconds: float = Field(default=15 * 60, gt=0)
    growth: float = Field(default=2.0, ge=1)
    # A key's failures are forgotten once it has had none for this long.
    forget_after_seconds: float = Field(default=24 * 3600, gt=0)

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after the given number of consecutive failures."""
        if failures < self.free_failures:
            return 0.0
        steps = min(failures - self.free_failures, 64)
        return float(min(self.first_delay_seconds * self.growth ** steps, self.max_delay_seconds))


class LookupLimits(BaseModel):
    """Limits on guessing a code's secret digits (booking and complaint look-ups)."""

    model_config = ConfigDict(frozen=True)

    # Failures of one requester on one code before that requester waits a window (others are not affected).
    per_code_and_requester: int = Field(default=5, ge=1)
    # Failures of one requester across all codes before it waits a window.
    per_requester: int = Field(default=10, ge=1)
    window_seconds: int = Field(default=3600, ge=1)
    # A storm: this many failures on one code from at least this many requesters within the window alerts staff.
    storm_failures: int = Field(default=20, ge=1)
    storm_requesters: int = Field(default=5, ge=1)

    def pair_policy(self) -> FailurePolicy:
        """The policy of one requester on one code."""
        return _window_policy(self.per_code_and_requester, self.window_seconds)

    def requester_policy(self) -> FailurePolicy:
        """The policy of one requester across codes."""
        return _window_policy(self.per_requester, self.window_seconds)


def _window_policy(failures: int, window_seconds: float) -> FailurePolicy:
    return FailurePolicy(free_failures=failures, first_delay_seconds=window_seconds,
                         max_delay_seconds=window_seconds, growth=1, forget_after_seconds=window_seconds)


class AttemptSettings(BaseModel):
    """Attempt limits of the service (composed into service.settings.Settings as ``attempts``)."""

    # Console sign-in, per account name: after 5 failures wait 1 s, 2 s, 4 s ... at most 15 minutes.
    login_account: FailurePolicy = FailurePolicy()
    # Console sign-in, per client address across accounts: a higher threshold.
    login_address: FailurePolicy = FailurePolicy(free_failures=20)
    lookups: LookupLimits = LookupLimits()
    # Citizen messages over the public API.
    messages_per_conversation: int = Field(default=20, ge=1)
    # Many citizens share one address behind a mobile carrier's NAT or an office network: generous.
    messages_per_address: int = Field(default=300, ge=1)
    message_window_seconds: int = Field(default=60, ge=1)


# --- tables -----------------------------------------------------------------------------------

class AttemptCounter(Base):
    """One key's counter: failures in a streak (with the time it must wait until) or hits in a window."""

    __tablename__ = "attempt_counter"

    key: Mapped[str] = mapped_column(String(KEY_MAX_CHARS), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    # Start of the current window (hits) or streak (failures).
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # After this the row means nothing and may be deleted.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AttemptAlert(Base):
    """Something staff should look at, e.g. many requesters guessing one code's digits."""

    __tablename__ = "attempt_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(KEY_MAX_CHARS))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- storage ----------------------------------------------------------------------------------

def as_utc(moment: datetime) -> datetime:
    """Reads a time as UTC (SQLite returns naive datetimes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def storage_key(key: str) -> str:
    """Keeps a key within the column: long keys keep a readable prefix and a digest of the whole."""
    if len(key) <= KEY_MAX_CHARS:
        return key
    return f"{key[:KEY_MAX_CHARS - 65]}#{hashlib.sha256(key.encode()).hexdigest()}"


class AttemptStore(Protocol):
    """Where counters live. Each operation must be atomic for its key."""

    def blocked_until(self, key: str, now: datetime) -> datetime | None:
        """Returns until when the key must wait, if it must."""

    def add_failure(self, key: str, now: datetime, policy: FailurePolicy) -> int:
        """Counts a failure and sets the wait the policy asks for; returns the failures in the streak."""

    def clear(self, key: str) -> None:
        """Forgets the key."""

    def add_hit(self, key: str, now: datetime, window: timedelta, amount: int = 1) -> tuple[int, datetime]:
        """Adds to the key's count in its fixed window; returns (count, window start)."""


class AlertSink(Protocol):
    """Where alerts for staff go."""

    def raise_alert(self, kind: str, subject: str, details: dict[str, Any], now: datetime) -> None:
        """Records an alert."""


class DatabaseStore:
    """Counters in ``attempt_counter``, in the caller's session (which owns the transaction).

    Rows are locked for the update (FOR UPDATE on PostgreSQL; SQLite's BEGIN
    IMMEDIATE already serialises writers), so concurrent failures all count.
    """

    def __init__(self, db_session: Session) -> None:
        self.db_session = db_session

    def _row(self, key: str, now: datetime, *, create: bool) -> AttemptCounter | None:
        if create:
            if random.random() < PURGE_PROBABILITY:
                self.db_session.execute(delete(AttemptCounter).where(AttemptCounter.expires_at < now))
            dialect = self.db_session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            self.db_session.execute(insert(AttemptCounter).values(
                key=key, count=0, started_at=now, last_at=now, blocked_until=None, expires_at=now,
            ).on_conflict_do_nothing(index_elements=["key"]))
        row: AttemptCounter | None = self.db_session.scalar(
            select(AttemptCounter).where(AttemptCounter.key == key).with_for_update()
            .execution_options(populate_existing=True))
        return row

    def blocked_until(self, key: str, now: datetime) -> datetime | None:
        """Returns until when the key must wait, if it must."""
        row = self._row(storage_key(key), now, create=False)
        if row is None or row.blocked_until is None:
            return None
        until = as_utc(row.blocked_until)
        return until if until > now else None

    def add_failure(self, key: str, now: datetime, policy: FailurePolicy) -> int:
        """Counts a failure and sets the wait the policy asks for; returns the failures in the streak."""
        row = self._row(storage_key(key), now, create=True)
        assert row is not None
        forget_after = timedelta(seconds=policy.forget_after_seconds)
        if row.count == 0 or now - as_utc(row.last_at) >= forget_after:
            row.count, row.started_at = 0, now
        row.count += 1
        row.last_at = now
        delay = policy.delay_after(row.count)
        row.blocked_until = now + timedelta(seconds=delay) if delay else None
        row.expires_at = max(now + forget_after, row.blocked_until or now)
        self.db_session.flush()
        return row.count

    def clear(self, key: str) -> None:
        """Forgets the key."""
        self.db_session.execute(delete(AttemptCounter).where(AttemptCounter.key == storage_key(key)))

    def add_hit(self, key: str, now: datetime, window: timedelta, amount: int = 1) -> tuple[int, datetime]:
        """Adds to the key's count in its fixed window (starting at its first hit); returns (count, start).

        One upsert statement, atomic on its own (the conflicting row is locked on
        PostgreSQL; SQLite serialises writers): a hit costs one round trip.
        """
        if random.random() < PURGE_PROBABILITY:
            self.db_session.execute(delete(AttemptCounter).where(AttemptCounter.expires_at < now))
        dialect = self.db_session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        window_over = or_(AttemptCounter.count == 0, AttemptCounter.started_at <= now - window)
        statement = insert(AttemptCounter).values(
            key=storage_key(key), count=amount, started_at=now, last_at=now, blocked_until=None,
            expires_at=now + window,
        )
        statement = statement.on_conflict_do_update(index_elements=["key"], set_={
            "count": case((window_over, amount), else_=AttemptCounter.count + amount),
            "started_at": case((window_over, now), else_=AttemptCounter.started_at),
            "last_at": now,
            "expires_at": now + window,  # at least the window's end: the row may be purged after it
        }).returning(AttemptCounter.count, AttemptCounter.started_at)
        count, started_at = self.db_session.execute(statement).one()
        return int(count), as_utc(started_at)


class DatabaseAlerts:
    """Alerts as rows of ``attempt_alert`` in the caller's session."""

    def __init__(self, db_session: Session) -> None:
        self.db_session = db_session

    def raise_alert(self, kind: str, subject: str, details: dict[str, Any], now: datetime) -> None:
        """Records an alert."""
        self.db_session.add(AttemptAlert(kind=kind, subject=subject[:KEY_MAX_CHARS], details=details,
                                         created_at=now))
        self.db_session.flush()


def open_alerts(*, db_session: Session, limit: int = 100) -> list[AttemptAlert]:
    """Lists alerts nobody has acknowledged, newest first."""
    return list(db_session.scalars(
        select(AttemptAlert).where(AttemptAlert.acknowledged_at.is_(None))
        .order_by(AttemptAlert.created_at.desc(), AttemptAlert.id.desc()).limit(limit)))


# --- the interface callers use ---------------------------------------------------------------

def _seconds(delta: timedelta) -> int:
    """Whole seconds to wait, rounded up (a wait never reads as 0)."""
    return max(1, math.ceil(delta.total_seconds()))


class Attempts:
    """Checks and counts attempts against a store, on one clock."""

    def __init__(self, store: AttemptStore, clock: Clock = utcnow, alerts: AlertSink | None = None) -> None:
        self.store = store
        self.clock = clock
        self.alerts = alerts

    def now(self) -> datetime:
        """The clock's time, in UTC."""
        return as_utc(self.clock())

    def check(self, key: str) -> int:
        """Seconds the key must still wait; 0 when it may try now."""
        now = self.now()
        until = self.store.blocked_until(key, now)
        return _seconds(until - now) if until is not None else 0

    def record_failure(self, key: str, policy: FailurePolicy) -> int:
        """Counts a failed attempt; returns the failures in the key's current streak."""
        return self.store.add_failure(key, self.now(), policy)

    def reset(self, key: str) -> None:
        """Forgets the key's failures, e.g. after the right password."""
        self.store.clear(key)

    def increment(self, key: str, window_seconds: float, amount: int = 1) -> int:
        """Adds to the key's count in a fixed window and returns the count (``amount=0`` only reads it)."""
        count, _start = self.store.add_hit(key, self.now(), timedelta(seconds=window_seconds), amount)
        return count

    def hit(self, key: str, limit: int, window_seconds: float) -> int:
        """Counts a request; returns 0 when at most ``limit`` came in the window, else the seconds to wait."""
        now = self.now()
        window = timedelta(seconds=window_seconds)
        count, start = self.store.add_hit(key, now, window)
        return _seconds(start + window - now) if count > limit else 0

    def alert(self, kind: str, subject: str, details: dict[str, Any]) -> None:
        """Tells staff: a warning in the log and an alert row they see."""
        logger.warning("attempt alert %s on %s: %s", kind, subject, details)
        if self.alerts is not None:
            self.alerts.raise_alert(kind, subject, details, self.now())


class LookupGuard:
    """Limits guessing the digits that unlock a code (a booking, a complaint ticket).

    Failures count per (code, requester), so a stranger's guesses never lock
    the owner out, and per requester across codes, so one requester cannot
    scan many codes. Many failures on one code from many requesters within
    the window are a storm: logged at WARNING and raised as a staff alert,
    once per window.
    """

    def __init__(self, attempts: Attempts, *, scope: str, limits: LookupLimits) -> None:
        self.attempts = attempts
        self.scope = scope
        self.limits = limits

    def _pair_key(self, code: str, requester: str) -> str:
        return f"lookup:{self.scope}:{code}:{requester}"

    def _requester_key(self, requester: str) -> str:
        return f"lookup-requester:{self.scope}:{requester}"

    def _storm_key(self, code: str, part: str) -> str:
        return f"lookup-storm:{self.scope}:{code}:{part}"

    def wait(self, code: str, requester: str) -> int:
        """Seconds this requester must wait before trying this code again; 0 = go ahead."""
        return max(self.attempts.check(self._pair_key(code, requester)),
                   self.attempts.check(self._requester_key(requester)))

    def failed(self, code: str, requester: str) -> None:
        """Counts wrong digits (or an unknown code) and watches for a storm on the code."""
        limits = self.limits
        pair_failures = self.attempts.record_failure(self._pair_key(code, requester), limits.pair_policy())
        self.attempts.record_failure(self._requester_key(requester), limits.requester_policy())
        window = limits.window_seconds
        failures = self.attempts.increment(self._storm_key(code, "failures"), window)
        # A requester joins the code's count with the first failure of its streak.
        requesters = self.attempts.increment(self._storm_key(code, "requesters"), window,
                                             amount=1 if pair_failures == 1 else 0)
        if failures < limits.storm_failures or requesters < limits.storm_requesters:
            return
        if self.attempts.increment(self._storm_key(code, "alerted"), window) == 1:
            self.attempts.alert("lookup_storm", f"{self.scope}:{code}", {
                "scope": self.scope, "code": code, "failures": failures, "requesters": requesters,
                "window_seconds": window})

    def succeeded(self, code: str, requester: str) -> None:
        """Forgets this requester's failures on this code (not its failures across codes)."""
        self.attempts.reset(self._pair_key(code, requester))


# --- wiring -----------------------------------------------------------------------------------

def app_clock(state: Any) -> Clock:
    """The attempt clock of an app's state (tests set ``app.state.attempt_clock``)."""
    clock: Clock = getattr(state, "attempt_clock", utcnow)
    return clock


def attempts_for(app: Any, db_session: Session) -> Attempts:
    """The attempt limiter of an app, working in the given session."""
    return Attempts(DatabaseStore(db_session), clock=app_clock(app.state), alerts=DatabaseAlerts(db_session))


def session_attempts(db_session: Session, clock: Clock) -> Attempts:
    """An attempt limiter in the given session on the given clock (for flows that get ``now`` passed in)."""
    return Attempts(DatabaseStore(db_session), clock=clock, alerts=DatabaseAlerts(db_session))


def client_address(connection: HTTPConnection) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with --proxy-headers)."""
    return connection.client.host if connection.client else "unknown"


def retry_headers(retry_after: int) -> dict[str, str]:
    """The Retry-After header of a refusal."""
    return {"Retry-After": str(retry_after)}


def too_many_attempts(retry_after: int, message: str = "too many failed attempts, try again later") -> ServiceError:
    """The 429 answer to a throttled attempt, with Retry-After."""
    return ServiceError(message, code="too_many_attempts", status_code=429,
                        details={"retry_after_seconds": retry_after}, headers=retry_headers(retry_after))
