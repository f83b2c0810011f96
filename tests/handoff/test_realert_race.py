"""Several service instances check for overdue tickets at the same moment: each period alerts once."""

import threading
import uuid
from datetime import timedelta

from sqlalchemy import update

from conversations import service as conversation_service
from conversations.enums import Channel
from conversations.models import utcnow
from handoff import flows
from handoff import service as handoff_service
from handoff.enums import HandoffReason, TicketStatus
from handoff.models import HandoffTicket
from service.app import create_app
from service.settings import Settings

INSTANCES = 4
ROUNDS = 10


def instance(database_url: str):  # noqa: ANN201 - a FastAPI app
    return create_app(Settings(
        database_url=database_url, rasa_url="http://127.0.0.1:9", rasa_token="rasa-token-for-tests-0001",
        internal_api_token="internal-token-for-tests-0001", secret_key="secret-key-for-tests-0001"))


def test_instances_checking_at_once_alert_each_overdue_ticket_once(postgres_url: str) -> None:
    apps = [instance(postgres_url) for _ in range(INSTANCES)]
    database = apps[0].state.database
    after = timedelta(seconds=apps[0].state.settings.handoff.realert_after_seconds)
    with database.session() as s:
        conversation = conversation_service.get_or_create(db_session=s, conversation_id=f"ra-{uuid.uuid4().hex[:8]}",
                                                          channel=Channel.web)
        ticket_id = handoff_service.create(
            db_session=s, conversation_id=conversation.id, reason=HandoffReason.explicit, priority=2,
            status=TicketStatus.queued, channel="web", summary="-", turns=[], slots={}, history={},
            left_messages=[], opened_seq=0, alert_count=1).id
    alerted: list[int] = []
    lock = threading.Lock()
    now = utcnow()
    for _ in range(ROUNDS):
        now += after + timedelta(seconds=1)
        with database.session() as s:  # the last alert is one period old
            s.execute(update(HandoffTicket).where(HandoffTicket.id == ticket_id)
                      .values(last_alert_at=now - after - timedelta(seconds=1)))
        barrier = threading.Barrier(INSTANCES)

        def check(app, moment=now, barrier=barrier) -> None:  # noqa: ANN001
            barrier.wait()
            found = flows.realert_due(app, now=moment)
            with lock:
                alerted.extend(found)

        workers = [threading.Thread(target=check, args=(app,)) for app in apps]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    with database.session() as s:
        stored = s.get(HandoffTicket, ticket_id).alert_count
    for app in apps:
        app.state.database.dispose()
    assert alerted == [ticket_id] * ROUNDS  # one alert per period, whichever instance took it
    assert stored == 1 + ROUNDS
