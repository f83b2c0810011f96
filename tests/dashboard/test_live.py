"""Live figures: the fingerprint task tells the consoles when a row arrives or a ticket moves, and only then."""

import asyncio

import pytest
from fastapi import FastAPI

from conversations import service as conversation_service
from conversations.enums import Channel
from dashboard import live
from faq.enums import AnswerStatus
from faq.service import question_row
from handoff import service as handoff_service
from handoff.enums import HandoffReason, TicketStatus
from staff.enums import StaffRole
from staff.events import STAFF_TOPIC
from tests.handoff.conftest import add_agent


def add_question(app: FastAPI, text: str = "营业时间") -> None:
    """Logs one FAQ question, as the write-behind would."""
    with app.state.database.session() as db_session:
        db_session.add(question_row(conversation_id=None, question=text, status=AnswerStatus.answered,
                                    entry_id="hours", service=None, confidence=0.9))


async def test_a_new_row_or_a_claim_publishes_figures_changed(app: FastAPI) -> None:
    hub = app.state.router.hub
    events = hub.subscribe(STAFF_TOPIC)
    watch = live.FiguresWatch(app.state.database)
    # The first reading is the baseline; reading again with nothing new says nothing.
    assert await live.publish_if_moved(app, watch) is False
    assert await live.publish_if_moved(app, watch) is False
    assert events.empty()

    add_question(app)
    assert await live.publish_if_moved(app, watch) is True
    assert events.get_nowait() == {"type": "figures_changed"}
    assert events.empty()

    # A claim adds no row but moves the figures (the queue wait).
    with app.state.database.session() as db_session:
        agent = add_agent(db_session, "watcher", role=StaffRole.agent)
        conversation_service.get_or_create(db_session=db_session, conversation_id="live-1", channel=Channel.web)
        ticket = handoff_service.create(db_session=db_session, conversation_id="live-1",
                                        reason=HandoffReason.explicit, priority=2, status=TicketStatus.queued,
                                        channel="web", summary="s")
        ticket_id, agent_id = ticket.id, agent.id
    assert await live.publish_if_moved(app, watch) is True
    events.get_nowait()
    with app.state.database.session() as db_session:
        handoff_service.claim(db_session=db_session, ticket_id=ticket_id, agent_id=agent_id)
    assert await live.publish_if_moved(app, watch) is True
    assert events.get_nowait() == {"type": "figures_changed"}
    hub.unsubscribe(STAFF_TOPIC, events)


async def test_the_task_started_with_the_app_publishes(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "FINGERPRINT_SECONDS", 0.05)
    events = app.state.router.hub.subscribe(STAFF_TOPIC)
    async with app.router.lifespan_context(app):
        # Let the task take its baseline, then a question arrives.
        for _ in range(100):
            if app.state.dashboard_watch.last is not None:
                break
            await asyncio.sleep(0.02)
        await asyncio.to_thread(add_question, app, "公积金")
        event = await asyncio.wait_for(events.get(), timeout=5)
        assert event == {"type": "figures_changed"}
    assert "dashboard_watch" not in app.state.background_tasks
