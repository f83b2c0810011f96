"""The attempt limiter: growing delays, reset, fixed-window rate limits, storms, and counters shared by instances."""

import logging
from datetime import UTC, datetime

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from conversations.rate_limit import limit_citizen_messages
from service.app import create_app
from service.attempts import (
    AttemptAlert,
    AttemptCounter,
    Attempts,
    DatabaseAlerts,
    DatabaseStore,
    FailurePolicy,
    LookupGuard,
    LookupLimits,
    attempts_for,
    storage_key,
)
from service.database import Database
from service.settings import Settings
from tests.complaints.conftest import FrozenClock

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_failures_past_the_free_ones_wait_longer_each_time(database_url: str) -> None:
    database, clock = Database(database_url), FrozenClock(START)
    policy = FailurePolicy(free_failures=3, first_delay_seconds=1, max_delay_seconds=8)
    waits = []
    for _ in range(7):
        with database.session() as s:
            attempts = Attempts(DatabaseStore(s), clock)
            attempts.record_failure("login:user:a", policy)
            waits.append(attempts.check("login:user:a"))
        clock.advance(seconds=waits[-1])
    assert waits == [0, 0, 1, 2, 4, 8, 8]
    with database.session() as s:
        attempts = Attempts(DatabaseStore(s), clock)
        attempts.record_failure("login:user:a", policy)
        assert attempts.check("login:user:a") == 8
        clock.advance(seconds=3)
        assert attempts.check("login:user:a") == 5
        assert attempts.check("login:user:b") == 0
        attempts.reset("login:user:a")
        assert attempts.check("login:user:a") == 0
        assert attempts.record_failure("login:user:a", policy) == 1
    database.dispose()


def test_failures_are_forgotten_after_a_quiet_spell(database_url: str) -> None:
    database, clock = Database(database_url), FrozenClock(START)
    policy = FailurePolicy(free_failures=2, forget_after_seconds=600)
    with database.session() as s:
        attempts = Attempts(DatabaseStore(s), clock)
        assert attempts.record_failure("k", policy) == 1
        clock.advance(seconds=599)
        assert attempts.record_failure("k", policy) == 2
        assert attempts.check("k") == 1
        clock.advance(seconds=600)
        assert attempts.record_failure("k", policy) == 1
        assert attempts.check("k") == 0
    database.dispose()


def test_hit_allows_the_limit_per_window_then_says_when(database_url: str) -> None:
    database, clock = Database(database_url), FrozenClock(START)
    with database.session() as s:
        attempts = Attempts(DatabaseStore(s), clock)
        assert [attempts.hit("messages:ip:x", 3, 60) for _ in range(3)] == [0, 0, 0]
        clock.advance(seconds=20)
        assert attempts.hit("messages:ip:x", 3, 60) == 40
        assert attempts.hit("messages:ip:y", 3, 60) == 0
        clock.advance(seconds=40)
        assert attempts.hit("messages:ip:x", 3, 60) == 0
    database.dispose()


def test_long_keys_stay_within_the_column_and_apart(database_url: str) -> None:
    one, two = "lookup:x:" + "a" * 400, "lookup:x:" + "a" * 399 + "b"
    assert len(storage_key(one)) == 255 and storage_key(one) != storage_key(two)
    database, clock = Database(database_url), FrozenClock(START)
    with database.session() as s:
        attempts = Attempts(DatabaseStore(s), clock)
        attempts.record_failure(one, FailurePolicy(free_failures=1))
        assert attempts.check(one) == 1 and attempts.check(two) == 0
    database.dispose()


def test_a_storm_on_one_code_alerts_once(database_url: str, caplog) -> None:
    database, clock = Database(database_url), FrozenClock(START)
    limits = LookupLimits(storm_failures=6, storm_requesters=3)
    caplog.set_level(logging.WARNING, logger="service.attempts")
    with database.session() as s:
        guard = LookupGuard(Attempts(DatabaseStore(s), clock, DatabaseAlerts(s)), scope="test", limits=limits)
        for requester in ("r1", "r1", "r1", "r1", "r1", "r1", "r1"):
            guard.failed("CODE1", requester)
        assert s.scalars(select(AttemptAlert)).all() == []  # many failures, but from one requester
        for requester in ("r2", "r3", "r4", "r5"):
            guard.failed("CODE1", requester)
        alerts = s.scalars(select(AttemptAlert)).all()
    assert [(a.kind, a.subject) for a in alerts] == [("lookup_storm", "test:CODE1")]
    assert alerts[0].details["requesters"] == 3
    assert [r.levelname for r in caplog.records if "lookup_storm" in r.getMessage()] == ["WARNING"]
    database.dispose()


def _limited_app(settings: Settings, clock: FrozenClock) -> FastAPI:
    app = create_app(settings)
    app.state.attempt_clock = clock

    @app.post("/limited/{conversation_id}", dependencies=[Depends(limit_citizen_messages)])
    def limited(conversation_id: str) -> dict[str, str]:
        return {"ok": conversation_id}

    return app


def test_two_instances_on_one_database_share_the_counters(settings: Settings) -> None:
    clock = FrozenClock(START)
    settings = settings.model_copy(update={"attempts": settings.attempts.model_copy(
        update={"messages_per_conversation": 4})})
    first, second = _limited_app(settings, clock), _limited_app(settings, clock)
    with TestClient(first) as a, TestClient(second) as b:
        assert [a.post("/limited/c-1").status_code for _ in range(2)] == [200, 200]
        assert [b.post("/limited/c-1").status_code for _ in range(2)] == [200, 200]
        refused = a.post("/limited/c-1")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert b.post("/limited/c-1").status_code == 429
        # Login failures recorded by one instance hold on the other.
        with first.state.database.session() as s:
            for _ in range(5):
                attempts_for(first, s).record_failure("login:user:x", settings.attempts.login_account)
        with second.state.database.session() as s:
            assert attempts_for(second, s).check("login:user:x") == 1
            assert s.get(AttemptCounter, "login:user:x").count == 5


def _concurrent_failures(url: str, threads: int = 8, each: int = 5) -> int:
    """Records failures of one key from several threads, each in its own transactions; returns the final count."""
    from concurrent.futures import ThreadPoolExecutor

    database = Database(url)
    policy = FailurePolicy(free_failures=1000)

    def fail(_n: int) -> None:
        for _ in range(each):
            with database.session() as s:
                Attempts(DatabaseStore(s)).record_failure("login:ip:race", policy)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(fail, range(threads)))
    with database.session() as s:
        count = s.get(AttemptCounter, "login:ip:race").count
    database.dispose()
    return int(count)


def test_concurrent_failures_all_count_on_sqlite(database_url: str) -> None:
    assert _concurrent_failures(database_url) == 40


def test_concurrent_failures_all_count_on_postgresql(postgres_url: str) -> None:
    assert _concurrent_failures(postgres_url) == 40
