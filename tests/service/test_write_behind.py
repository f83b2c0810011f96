"""Rows written behind the reply: batched, in order, kept when a write fails, written at shutdown."""

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from faq.enums import AnswerStatus
from faq.models import FaqQuery
from faq.service import question_row
from service.database import Base, Database
from service.write_behind import WriteBehind


def row(text: str) -> FaqQuery:
    return question_row(conversation_id="c1", question=text, status=AnswerStatus.answered, entry_id="x",
                        service=None, confidence=1.0)


@pytest.fixture
def database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'wb.db'}")
    Base.metadata.create_all(database.engine, tables=[FaqQuery.__table__])
    yield database
    database.dispose()


def stored(database: Database) -> list[str]:
    with database.session() as db_session:
        return list(db_session.scalars(select(FaqQuery.question).order_by(FaqQuery.id)))


def test_rows_are_written_in_batches_in_their_order(database: Database) -> None:
    writer = WriteBehind(database, max_batch=3)
    for n in range(7):
        writer.add(row(f"问题{n}"))
    assert stored(database) == []
    assert writer.flush_now() == 7
    assert stored(database) == [f"问题{n}" for n in range(7)]


def test_a_failed_write_keeps_the_rows_for_the_next_attempt(database: Database, tmp_path: Path) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'missing-table.db'}")  # no faq_queries table
    writer = WriteBehind(broken)
    writer.add(row("甲"))
    writer.add(row("乙"))
    with pytest.raises(OperationalError, match="no such table"):
        writer.flush_now()
    assert writer.pending() == 2
    writer.database = database
    assert writer.flush_now() == 2
    assert stored(database) == ["甲", "乙"]
    broken.dispose()


def test_the_background_writer_flushes_on_its_own_and_at_shutdown(database: Database) -> None:
    async def scenario() -> None:
        writer = WriteBehind(database, flush_seconds=0.05)
        writer.start()
        writer.add(row("自动"))
        for _ in range(100):
            if stored(database):
                break
            await asyncio.sleep(0.02)
        assert stored(database) == ["自动"]
        writer.add(row("关机前"))
        await writer.stop()
        assert stored(database) == ["自动", "关机前"]
    asyncio.run(scenario())
