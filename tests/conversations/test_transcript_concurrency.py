"""Concurrent writers never share or skip a transcript sequence number (SQLite and PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from conversations import service as conversation_service
from conversations.enums import Channel, Sender
from service.database import Database


def append_concurrently(url: str, writers: int = 20) -> list[int]:
    """Appends one message from each of ``writers`` threads and returns the stored seqs."""
    database = Database(url)
    with database.session() as db_session:
        conversation_service.get_or_create(db_session=db_session, conversation_id="busy", channel=Channel.web)

    def write(index: int) -> None:
        with database.session() as db_session:
            conversation_service.append_message(
                db_session=db_session, conversation_id="busy", sender=Sender.citizen, text=f"消息{index}")

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(write, range(writers)))
    with database.session() as db_session:
        seqs = [m.seq for m in conversation_service.list_messages(db_session=db_session, conversation_id="busy")]
    database.dispose()
    return seqs


def test_sqlite_concurrent_appends_get_distinct_consecutive_seqs(database_url: str) -> None:
    assert append_concurrently(database_url) == list(range(1, 21))


@pytest.mark.postgres
def test_postgres_concurrent_appends_get_distinct_consecutive_seqs(postgres_url: str) -> None:
    assert append_concurrently(postgres_url) == list(range(1, 21))
