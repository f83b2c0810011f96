"""Engine, sessions and the declarative base shared by every domain.

One owner of the transaction: a request gets one session from ``get_db``; it is
committed when the request handler returns and rolled back when it raises
(in the handler's own thread: see ``TransactionalRoute``). Safe methods (GET,
HEAD) read in a deferred SQLite transaction that never takes the write lock.
Service functions flush but never commit, so a flow spanning several domains is
one atomic unit.

Code running on the event loop opens sessions with ``async with
database.async_session()``: on SQLite it waits for the write lock without
blocking the loop, because the lock may be held by a request whose commit
needs the loop to run (sync endpoints commit in a later threadpool hop).
"""

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 30000
# Set while an event-loop session takes the SQLite write lock: fail fast and retry asynchronously.
_sqlite_nowait: ContextVar[bool] = ContextVar("sqlite_nowait", default=False)


class Base(DeclarativeBase):
    """Declarative base of all tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 5) -> Engine:
    """Creates an engine; SQLite gets WAL, foreign keys and a busy timeout.

    The pool bounds apply to server databases: each instance holds at most
    ``pool_size + max_overflow`` connections, so several service and Rasa
    instances stay under PostgreSQL's default limit of 100.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=20,
            max_overflow=20,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own transaction handling defers BEGIN; take it over so
            # BEGIN IMMEDIATE can serialise writers (see write_transaction).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Every transaction takes the write lock up front: SQLite cannot
            # upgrade a read lock under concurrency without deadlock errors,
            # and the service's transactions are short.
            busy_timeout = 0 if _sqlite_nowait.get() else SQLITE_BUSY_TIMEOUT_MS
            if conn.info.get("busy_timeout") != busy_timeout:  # info lives with the pooled DBAPI connection
                conn.exec_driver_sql(f"PRAGMA busy_timeout={busy_timeout}")
                conn.info["busy_timeout"] = busy_timeout
            deferred = conn.get_execution_options().get("sqlite_begin") == "DEFERRED"
            conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


@contextmanager
def _owned(session: Session) -> Iterator[Session]:
    """Commits the session on success, rolls it back on error, closes it either way."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, pool_size: int = 10, max_overflow: int = 5) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size, max_overflow)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Opens a session that commits on success and rolls back on error."""
        with _owned(self.session_factory()) as session:
            yield session

    @asynccontextmanager
    async def async_session(self) -> AsyncIterator[Session]:
        """Like ``session()``, for code on the event loop: waits for SQLite's write lock without blocking it."""
        if not self.url.startswith("sqlite"):
            with self.session() as session:
                yield session
            return
        with _owned(await self._begin_without_blocking()) as session:
            yield session

    async def _begin_without_blocking(self) -> Session:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SQLITE_BUSY_TIMEOUT_MS / 1000
        delay = 0.002
        while True:
            session = self.session_factory()
            token = _sqlite_nowait.set(True)
            try:
                session.connection()  # runs BEGIN IMMEDIATE now, failing at once if another writer holds the lock
                return session
            except OperationalError as exc:
                session.close()
                if "locked" not in str(exc) or loop.time() > deadline:
                    raise
            finally:
                _sqlite_nowait.reset(token)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()


def get_database(request: Request) -> Database:
    """Returns the app's database."""
    database: Database = request.app.state.database
    return database


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY = {"sqlite_begin": "DEFERRED"}


def get_db(request: Request) -> Iterator[Session]:
    """Yields the request's session; the request owns the transaction."""
    with get_database(request).session() as session:
        if request.method in SAFE_METHODS:
            session.connection(execution_options=READ_ONLY)
        yield session


def _commit_in_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [value for value in kwargs.values() if isinstance(value, Session)]
        try:
            result = endpoint(*args, **kwargs)
            for session in sessions:
                session.commit()
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        for session in sessions:
            # Anything read while the response is serialised needs no write lock.
            session.connection(execution_options=READ_ONLY)
        return result

    return run


class TransactionalRoute(APIRoute):
    """Commits a sync handler's session in the handler's own worker thread.

    FastAPI closes a yield-dependency in a later threadpool hop scheduled by the
    event loop; a transaction left open until then would hold SQLite's write
    lock while the loop may itself be waiting for it.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _commit_in_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)


SessionDep = Annotated[Session, Depends(get_db)]
DatabaseDep = Annotated[Database, Depends(get_database)]
