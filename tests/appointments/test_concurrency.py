"""Capacity is never exceeded: 60 concurrent bookings at one slot of capacity 5, on SQLite and PostgreSQL."""

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, time

import pytest
from sqlalchemy import func, select, text

from appointments import service
from appointments.models import AppointmentSlot, Booking, BookingCreate
from appointments.schedule import AppointmentRules
from service.database import Base, Database
from service.errors import ConflictError
from tests.appointments.conftest import FIXED_NOW

REQUESTS = 60
DAY, START = date(2026, 11, 19), time(10, 0)


def fire(database: Database, rules: AppointmentRules, requests: int, same_key: bool = False) -> Counter:
    """Sends concurrent booking requests for passport (capacity 5), each in its own thread and session."""
    barrier = threading.Barrier(requests)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def attempt(index: int) -> None:
        data = BookingCreate(service_id="passport", day=DAY, start=START, name=f"市民{index}",
                             mobile=f"139{index:08d}", idempotency_key="retry-key-0001" if same_key else None)
        barrier.wait()
        try:
            with database.session() as session:
                service.book_slot(db_session=session, rules=rules, data=data, now=FIXED_NOW)
            outcome = "booked"
        except ConflictError as exc:
            outcome = exc.code
        except Exception as exc:  # noqa: BLE001 - any other failure must show up in the counts
            outcome = f"error:{type(exc).__name__}:{exc}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def stored(database: Database) -> tuple[int, int]:
    """(bookings in the slot, the slot's counter)."""
    with database.session() as session:
        bookings = session.scalar(select(func.count()).select_from(Booking).where(Booking.day == DAY,
                                                                                  Booking.start == START))
        counter = session.scalar(select(AppointmentSlot.booked).where(AppointmentSlot.day == DAY,
                                                                      AppointmentSlot.start == START))
    return bookings, counter


def test_sqlite_never_overbooks(database_url: str, rules: AppointmentRules) -> None:
    database = Database(database_url)
    outcomes = fire(database, rules, REQUESTS)
    print(f"sqlite: {REQUESTS} concurrent requests -> {dict(outcomes)}")
    assert outcomes == Counter({"booked": 5, "full": REQUESTS - 5})
    assert stored(database) == (5, 5)
    database.dispose()


def test_sqlite_concurrent_retries_book_once(database_url: str, rules: AppointmentRules) -> None:
    database = Database(database_url)
    outcomes = fire(database, rules, 20, same_key=True)
    assert outcomes == Counter({"booked": 20})
    assert stored(database) == (1, 1)
    database.dispose()


@pytest.fixture
def postgres_database() -> Iterator[Database]:
    """The appointment tables in a throwaway schema of the PostgreSQL server at TEST_POSTGRES_URL."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    schema = f"appointments_test_{uuid.uuid4().hex[:8]}"
    admin = Database(url)
    with admin.session() as session:
        session.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}")
    Base.metadata.create_all(database.engine, tables=[AppointmentSlot.__table__, Booking.__table__])
    yield database
    database.dispose()
    with admin.session() as session:
        session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.postgres
def test_postgres_never_overbooks(postgres_database: Database, rules: AppointmentRules) -> None:
    outcomes = fire(postgres_database, rules, REQUESTS)
    print(f"postgresql: {REQUESTS} concurrent requests -> {dict(outcomes)}")
    assert outcomes == Counter({"booked": 5, "full": REQUESTS - 5})
    assert stored(postgres_database) == (5, 5)


@pytest.mark.postgres
def test_postgres_concurrent_retries_book_once(postgres_database: Database, rules: AppointmentRules) -> None:
    outcomes = fire(postgres_database, rules, 20, same_key=True)
    assert outcomes == Counter({"booked": 20})
    assert stored(postgres_database) == (1, 1)
