"""Rows written after the reply, in batches: records nobody waits for must not hold the reply path.

The FAQ question log is written for the operators' report, not for the
citizen: writing it inside the answer's own transaction made every answer wait
for SQLite's write lock. Such rows are handed to ``WriteBehind.add`` and written
by one background task, many per transaction, at most ``flush_seconds`` later.
A reader that must see everything (the report) calls ``flush_now`` first, and
shutdown writes what is left.
"""

import asyncio
import logging
import threading
from collections import deque
from typing import Any

from service.database import Database

logger = logging.getLogger(__name__)


class WriteBehind:
    """A queue of ORM rows that a background task inserts in batches."""

    def __init__(self, database: Database, flush_seconds: float = 0.5, max_batch: int = 500) -> None:
        self.database = database
        self.flush_seconds = flush_seconds
        self.max_batch = max_batch
        self._pending: deque[Any] = deque()
        self._write_lock = threading.Lock()  # a batch is written whole before the next one starts
        self._task: asyncio.Task[None] | None = None

    def add(self, row: Any) -> None:
        """Queues a row; safe from the event loop and from worker threads."""
        self._pending.append(row)

    def pending(self) -> int:
        """How many rows wait to be written."""
        return len(self._pending)

    def _take_batch(self) -> list[Any]:
        batch = []
        while self._pending and len(batch) < self.max_batch:
            batch.append(self._pending.popleft())
        return batch

    def flush_now(self) -> int:
        """Writes every queued row now, in this thread; returns how many."""
        written = 0
        with self._write_lock:
            while batch := self._take_batch():
                try:
                    with self.database.session() as db_session:
                        db_session.add_all(batch)
                except Exception:
                    self._pending.extendleft(reversed(batch))  # kept, in order, for the next attempt
                    raise
                written += len(batch)
        return written

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            if not self._pending:
                continue
            try:
                await asyncio.to_thread(self.flush_now)
            except Exception:  # the log must never take the service down; the rows are retried
                logger.exception("write-behind batch failed; retrying in %.1fs", self.flush_seconds)

    def start(self) -> None:
        """Starts the background writer on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="write-behind")

    async def stop(self) -> None:
        """Stops the writer and writes what is left."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await asyncio.to_thread(self.flush_now)
