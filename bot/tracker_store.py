"""Rasa's SQL tracker store, with each conversation's tracker kept in memory between its turns.

Rasa's ``SQLTrackerStore`` rebuilds the whole tracker on every message: it
reads every event of the conversation's session, decodes it and replays it,
then counts the stored events again to find the new ones to insert. A turn
costs more the longer the conversation is.

This store keeps the tracker it saved last (a bounded LRU of conversations).
On the next turn one indexed query, the conversation's highest event id, tells
whether the database still holds exactly what this process wrote; if it does,
the kept tracker is used, otherwise (another instance answered in between, a
turn failed before saving, the entry was evicted) the tracker is read from the
database as before. Saving inserts only the events after the ones known to be
stored. The database stays the one source of truth, so several Rasa
instances can share it (with the Redis lock store serialising each
conversation's turns).

Configured in ``endpoints.yml``::

    tracker_store:
      type: bot.tracker_store.CachedSQLTrackerStore
      dialect: sqlite
      db: var/rasa_tracker.db
      cache_size: 2000
"""

import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 2000


@dataclass
class _Kept:
    """A tracker as this process last saved it."""

    tracker: DialogueStateTracker
    stored_events: int  # how many of tracker.events are in the database
    last_event_id: Optional[int]  # the conversation's highest event id after the save


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that reuses the tracker it saved when the database shows nothing newer."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = max(0, int(cache_size))
        self._kept: "OrderedDict[str, _Kept]" = OrderedDict()
        if self.engine.dialect.name == "sqlite":
            # Several Rasa instances on one machine share the file: with WAL, reading a
            # conversation never waits for another instance's write (the mode stays with the file).
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")

    def _last_event_id(self, session: Any, sender_id: Text) -> Optional[int]:
        return session.query(sa.func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id).scalar()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The kept tracker if the database holds exactly what it holds, else the stored one."""
        kept = self._kept.get(sender_id)
        if kept is not None:
            with self.session_scope() as session:
                current = self._last_event_id(session, sender_id)
            if current == kept.last_event_id and len(kept.tracker.events) == kept.stored_events:
                self._kept.move_to_end(sender_id)
                return kept.tracker
            self._kept.pop(sender_id, None)
        return await super().retrieve(sender_id)

    def _row(self, sender_id: Text, event: Event) -> Any:
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"), data=json.dumps(data),
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Inserts the events not yet stored and keeps the tracker for the next turn."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        kept = self._kept.get(sender_id)
        with self.session_scope() as session:
            if kept is not None and kept.tracker is tracker:
                already_stored = kept.stored_events
            else:
                already_stored = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            new_events: List[Event] = list(itertools.islice(tracker.events, already_stored, len(tracker.events)))
            rows = [self._row(sender_id, event) for event in new_events]
            session.add_all(rows)
            session.flush()
            last_event_id = rows[-1].id if rows else self._last_event_id(session, sender_id)
            session.commit()
        # A new session: the next read starts at its SessionStarted, as SQLTrackerStore's does.
        if self.cache_size == 0 or any(isinstance(event, SessionStarted) for event in new_events):
            self._kept.pop(sender_id, None)
            return
        self._kept[sender_id] = _Kept(tracker, len(tracker.events), last_event_id)
        self._kept.move_to_end(sender_id)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)
