"""The Rasa server's tuning keeps what Rasa does: action responses are still validated, trackers round-trip."""

import asyncio

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_tuning
from bot.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet]
slots:
  current_service:
    type: text
    mappings: [{type: custom}]
""")


def remote_action() -> RemoteAction:
    rasa_tuning.apply()
    return RemoteAction("action_faq", None)


def test_a_valid_action_response_passes():
    response = {"events": [{"event": "slot", "name": "current_service", "value": "passport"}],
                "responses": [{"text": "好的"}]}
    assert remote_action()._validate_action_result(response) is True


@pytest.mark.parametrize("response", [
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"responses": [{"text": 5}], "events": [{"event": "slot"}]},
])
def test_an_invalid_action_response_is_refused_with_rasas_message(response):
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        remote_action()._validate_action_result(response)


def store(tmp_path) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))


def turn(tracker: DialogueStateTracker, text: str, service: str) -> None:
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    tracker.update(SlotSet("current_service", service))
    tracker.update(ActionExecuted("action_listen"))


def test_the_kept_tracker_is_reused_and_the_database_holds_every_event_once(tmp_path):
    async def scenario():
        first = store(tmp_path)
        tracker = DialogueStateTracker("c1", DOMAIN.slots)
        turn(tracker, "你好", "passport")
        await first.save(tracker)
        again = await first.retrieve("c1")
        assert again is tracker  # no rebuild from the database
        turn(again, "还有", "id_card")
        await first.save(again)
        fresh = await store(tmp_path).retrieve("c1")  # what another instance reads
        assert [e.as_dict()["event"] for e in fresh.events] == [e.as_dict()["event"] for e in tracker.events]
        assert fresh.get_slot("current_service") == "id_card"
    asyncio.run(scenario())


def test_a_write_by_another_instance_makes_the_kept_tracker_stale(tmp_path):
    async def scenario():
        a, b = store(tmp_path), store(tmp_path)
        tracker = DialogueStateTracker("c2", DOMAIN.slots)
        turn(tracker, "你好", "passport")
        await a.save(tracker)
        on_b = await b.retrieve("c2")
        turn(on_b, "改成身份证", "id_card")
        await b.save(on_b)
        on_a = await a.retrieve("c2")
        assert on_a is not tracker
        assert on_a.get_slot("current_service") == "id_card"
    asyncio.run(scenario())


def test_a_turn_that_failed_before_saving_is_not_reused(tmp_path):
    async def scenario():
        a = store(tmp_path)
        tracker = DialogueStateTracker("c3", DOMAIN.slots)
        turn(tracker, "你好", "passport")
        await a.save(tracker)
        kept = await a.retrieve("c3")
        turn(kept, "没存上", "id_card")  # the turn fails: never saved
        reread = await a.retrieve("c3")
        assert reread is not kept
        assert reread.get_slot("current_service") == "passport"
    asyncio.run(scenario())


def test_a_new_session_is_read_from_its_start(tmp_path):
    async def scenario():
        a = store(tmp_path)
        tracker = DialogueStateTracker("c4", DOMAIN.slots)
        turn(tracker, "你好", "passport")
        await a.save(tracker)
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        await a.save(tracker)
        reread = await a.retrieve("c4")
        assert reread is not tracker
        assert isinstance(reread.events[0], SessionStarted)
    asyncio.run(scenario())
