"""Atomic claims under contention: twenty agents in threads, each with its own session."""

import os
import threading
import uuid
from collections import Counter

import pytest

from conversations import service as conversation_service
from conversations.enums import Channel
from handoff import service as handoff_service
from handoff.enums import HandoffReason, TicketStatus
from service.database import Database
from service.errors import ConflictError
from tests.handoff.conftest import add_agent

AGENTS = 20


def seed(database: Database, tickets: int, max_chats: int = 1) -> tuple[list[int], list[int]]:
    """Creates agents and queued tickets with names unique to this run."""
    run = uuid.uuid4().hex[:8]
    ticket_ids = []
    with database.session() as s:
        agent_ids = [add_agent(s, f"race-{run}-{n}", max_chats=max_chats).id for n in range(AGENTS)]
        for n in range(tickets):
            conversation = conversation_service.get_or_create(db_session=s, conversation_id=f"race-{run}-{n}",
                                                              channel=Channel.web)
            ticket = handoff_service.create(
                db_session=s, conversation_id=conversation.id, reason=HandoffReason.explicit, priority=2,
                status=TicketStatus.queued, channel="web", summary="-", turns=[], slots={}, history={},
                left_messages=[], opened_seq=0, alert_count=1)
            ticket_ids.append(ticket.id)
    return agent_ids, ticket_ids


def run_all(workers: list[threading.Thread]) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)


def one_ticket_twenty_agents(database: Database) -> None:
    agent_ids, (ticket_id,) = seed(database, 1)
    barrier = threading.Barrier(AGENTS)
    winners: list[int] = []
    errors: list[BaseException] = []

    def attempt(agent_id: int) -> None:
        barrier.wait()
        try:
            with database.session() as s:
                handoff_service.claim(db_session=s, ticket_id=ticket_id, agent_id=agent_id)
            winners.append(agent_id)
        except ConflictError:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    run_all([threading.Thread(target=attempt, args=(a,)) for a in agent_ids])
    assert errors == []
    assert len(winners) == 1
    with database.session() as s:
        ticket = handoff_service.get_or_404(db_session=s, ticket_id=ticket_id)
        assert ticket.agent_id == winners[0] and ticket.status == TicketStatus.active


def many_tickets_twenty_agents(database: Database, tickets: int = 12) -> None:
    agent_ids, ticket_ids = seed(database, tickets)
    barrier = threading.Barrier(AGENTS)
    errors: list[BaseException] = []

    def work(agent_id: int) -> None:
        barrier.wait()
        for ticket_id in ticket_ids:
            try:
                with database.session() as s:
                    handoff_service.claim(db_session=s, ticket_id=ticket_id, agent_id=agent_id)
                return
            except ConflictError:
                continue
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return

    run_all([threading.Thread(target=work, args=(a,)) for a in agent_ids])
    assert errors == []
    with database.session() as s:
        owners = [handoff_service.get_or_404(db_session=s, ticket_id=t).agent_id for t in ticket_ids]
    assert None not in owners, "every ticket was claimed"
    assert len(set(owners)) == tickets, "no agent holds two tickets beyond capacity 1"
    assert max(Counter(owners).values()) == 1


def one_agent_many_claims(database: Database) -> None:
    agent_ids, ticket_ids = seed(database, 6, max_chats=1)
    agent_id = agent_ids[0]
    barrier = threading.Barrier(len(ticket_ids))
    won: list[int] = []

    def attempt(ticket_id: int) -> None:
        barrier.wait()
        try:
            with database.session() as s:
                handoff_service.claim(db_session=s, ticket_id=ticket_id, agent_id=agent_id)
            won.append(ticket_id)
        except ConflictError:
            pass

    run_all([threading.Thread(target=attempt, args=(t,)) for t in ticket_ids])
    assert len(won) == 1, "capacity 1 holds under concurrent claims by the same agent"


@pytest.fixture
def sqlite_database(database_url: str):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def postgres_database():
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set: no PostgreSQL server to race on")
    from service.migrate import upgrade

    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


def test_sqlite_one_ticket_goes_to_exactly_one_of_twenty(sqlite_database):
    one_ticket_twenty_agents(sqlite_database)


def test_sqlite_twenty_agents_share_tickets_without_doubles(sqlite_database):
    many_tickets_twenty_agents(sqlite_database)


def test_sqlite_capacity_holds_under_concurrency(sqlite_database):
    one_agent_many_claims(sqlite_database)


@pytest.mark.postgres
def test_postgres_one_ticket_goes_to_exactly_one_of_twenty(postgres_database):
    one_ticket_twenty_agents(postgres_database)


@pytest.mark.postgres
def test_postgres_twenty_agents_share_tickets_without_doubles(postgres_database):
    many_tickets_twenty_agents(postgres_database)


@pytest.mark.postgres
def test_postgres_capacity_holds_under_concurrency(postgres_database):
    one_agent_many_claims(postgres_database)
