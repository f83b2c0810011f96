"""SQLite's write lock is never held where the event loop could wait for it.

Sync handlers commit in their own worker thread, reads never take the write
lock, and event-loop code waits for the lock without blocking the loop.
"""

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.database import Database, SessionDep, TransactionalRoute


def _sqlite_path(database_url: str) -> str:
    return database_url.removeprefix("sqlite:///")


def _write_lock_is_free(path: str) -> bool:
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


@pytest.fixture
def probe_app(database_url: str) -> Iterator[tuple[TestClient, list[bool]]]:
    """An app whose probe dependency records, after the handler returned, whether the write lock was free."""
    observed: list[bool] = []
    path = _sqlite_path(database_url)

    def lock_probe() -> Iterator[None]:
        try:
            yield
        finally:
            # Torn down after the handler, before the session dependency (declared first) closes.
            observed.append(_write_lock_is_free(path))

    Probe = Annotated[None, Depends(lock_probe)]
    router = APIRouter(route_class=TransactionalRoute)

    @router.post("/write")
    def write(db_session: SessionDep, _probe: Probe) -> dict[str, int]:
        db_session.execute(text("CREATE TABLE IF NOT EXISTS probe (n INTEGER)"))
        db_session.execute(text("INSERT INTO probe VALUES (1)"))
        return {"ok": 1}

    @router.get("/read")
    def read(db_session: SessionDep, _probe: Probe) -> dict[str, int]:
        count = db_session.execute(text("SELECT count(*) FROM sqlite_master")).scalar_one()
        assert _write_lock_is_free(path), "a read took the write lock"
        return {"tables": int(count)}

    @router.post("/fail")
    def fail(db_session: SessionDep, _probe: Probe) -> dict[str, int]:
        db_session.execute(text("CREATE TABLE IF NOT EXISTS never (n INTEGER)"))
        raise ValueError("handler failed")

    app = FastAPI()
    app.state.database = Database(database_url)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, observed
    app.state.database.dispose()


def test_a_writing_handler_releases_the_lock_before_its_dependencies_close(probe_app):
    client, observed = probe_app
    assert client.post("/write").status_code == 200
    assert observed == [True]


def test_a_read_never_takes_the_write_lock(probe_app):
    client, observed = probe_app
    response = client.get("/read")
    assert response.status_code == 200, response.text
    assert observed == [True]


def test_a_failing_handler_rolls_back_and_releases_the_lock(probe_app, database_url: str):
    client, observed = probe_app
    assert client.post("/fail").status_code == 500
    assert observed == [True]
    connection = sqlite3.connect(_sqlite_path(database_url))
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert "never" not in tables


async def test_event_loop_session_waits_for_the_lock_without_blocking_the_loop(database_url: str):
    database = Database(database_url)
    held = threading.Event()
    release = threading.Event()

    def hold_write_lock() -> None:
        with database.session() as db_session:
            db_session.execute(text("CREATE TABLE IF NOT EXISTS held (n INTEGER)"))
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    assert held.wait(10)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def writer() -> int:
        async with database.async_session() as db_session:
            db_session.execute(text("INSERT INTO held VALUES (7)"))
        return ticks

    ticking = asyncio.create_task(ticker())
    waiting = asyncio.create_task(writer())
    await asyncio.sleep(0.3)
    assert not waiting.done(), "the writer did not wait for the lock"
    ticks_while_waiting = ticks
    release.set()
    await asyncio.wait_for(waiting, 10)
    ticking.cancel()
    holder.join(10)
    # The loop kept running while the writer waited (a blocking wait would freeze the ticker).
    assert ticks_while_waiting >= 10
    with database.session() as db_session:
        assert db_session.execute(text("SELECT n FROM held")).scalar_one() == 7
    database.dispose()
