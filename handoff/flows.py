"""Handoff orchestration: open a ticket, talk while waiting, claim, chat, transfer, close, rate.

Each step commits its own short transaction before it publishes events or
calls Rasa, so listeners never see state that could still roll back.
"""

import asyncio
import logging
import math
import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from conversations import service as conversation_service
from conversations.enums import ConversationMode, Sender
from conversations.flows import ConversationRouter
from conversations.models import Conversation, utcnow
from conversations.rasa_client import RasaUnavailable
from handoff import briefing
from handoff import service as handoff_service
from handoff.enums import OPEN_STATUSES, Disposition, HandoffReason, NoteKind, TicketStatus
from handoff.models import HandoffTicket, HandoffTicketNote, TicketCreate, TicketCreated
from handoff.settings import HandoffSettings
from staff.auth import Staff, hash_password
from service.errors import ConflictError, NotFoundError, ServiceError
from service.pii import find_mobile, mask_text
from service.texts import text as t
from staff.enums import StaffRole

logger = logging.getLogger(__name__)

QUEUE_TOPIC = "handoff:queue"
_CANCEL_PUNCTUATION = re.compile(r"[\s。！!，,.～~？?…]+")


def agent_topic(agent_id: int) -> str:
    """Hub topic of one agent's personal events."""
    return f"handoff:agent:{agent_id}"


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def is_working_time(settings: HandoffSettings, timezone: str, now: datetime) -> bool:
    """Tells whether agents work at this moment (local hours; Chinese holidays and make-up days when asked)."""
    local = now.astimezone(ZoneInfo(timezone))
    if settings.working_days == "workdays":
        try:
            workday = chinese_calendar.is_workday(local.date())
        except NotImplementedError:
            workday = local.weekday() < 5
        if not workday:
            return False
    minute = local.hour * 60 + local.minute
    return _minutes(settings.working_hours_start) <= minute < _minutes(settings.working_hours_end)


def _settings(app: FastAPI) -> HandoffSettings:
    handoff_settings: HandoffSettings = app.state.settings.handoff
    return handoff_settings


def _router(app: FastAPI) -> ConversationRouter:
    router: ConversationRouter = app.state.router
    return router


def count_online(app: FastAPI, db_session: Session, now: datetime | None = None) -> int:
    """Counts staff whose console is open."""
    return len(handoff_service.get_online_agents(
        db_session=db_session, now=now or utcnow(), timeout_seconds=_settings(app).presence_timeout_seconds))


def estimate_minutes(app: FastAPI, position: int, agents_online: int) -> int:
    """Estimates a citizen's wait from their place and the agents online."""
    return max(1, math.ceil(position * _settings(app).average_handle_minutes / max(1, agents_online)))


def _created_answer(app: FastAPI, db_session: Session, ticket: HandoffTicket, *, new: bool) -> TicketCreated:
    online = count_online(app, db_session)
    position = handoff_service.get_position(db_session=db_session, ticket=ticket)
    minutes = estimate_minutes(app, position, online) if position else None
    if ticket.status == TicketStatus.queued:
        if not new:
            message = t("handoff", "already_waiting", position=position, minutes=minutes)
        elif ticket.reason == HandoffReason.urgent:
            message = t("handoff", "queued_urgent")
        else:
            message = t("handoff", "queued", position=position, ahead=(position or 1) - 1, minutes=minutes)
    elif ticket.status == TicketStatus.active:
        agent = handoff_service.get_agent(db_session=db_session, agent_id=ticket.agent_id or 0)
        message = t("handoff", "already_with_agent", agent_name=agent.display_name if agent else "")
    elif online == 0 and is_working_time(_settings(app), app.state.settings.timezone, utcnow()):
        message = t("handoff", "callback_no_agents")
    else:
        hours = f"{_settings(app).working_hours_start}-{_settings(app).working_hours_end}"
        message = t("handoff", "callback", hours=hours)
    return TicketCreated(ticket_id=ticket.id, status=TicketStatus(ticket.status), position=position,
                         estimated_wait_minutes=minutes, agents_online=online, message=message)


async def open_ticket(app: FastAPI, body: TicketCreate) -> TicketCreated:
    """Queues a handed-over conversation (or files a callback off-hours); idempotent per conversation."""
    settings = _settings(app)
    names = briefing.service_names(app)  # before the transaction: it may reload the knowledge base
    async with app.state.database.async_session() as db_session:
        conversation = conversation_service.get_or_create(
            db_session=db_session, conversation_id=body.conversation_id, channel=body.channel)
        # Locks the conversation row so two requests for it cannot both open a ticket.
        db_session.execute(select(Conversation.id).where(Conversation.id == conversation.id).with_for_update())
        existing = handoff_service.get_open_for_conversation(db_session=db_session, conversation_id=conversation.id)
        if existing is not None:
            return _created_answer(app, db_session, existing, new=False)
        now = utcnow()
        open_now = is_working_time(settings, app.state.settings.timezone, now)
        status = TicketStatus.queued if open_now and count_online(app, db_session, now) > 0 else TicketStatus.callback
        mobile = briefing.contact_mobile(body)
        ticket = handoff_service.create(
            db_session=db_session, conversation_id=conversation.id, reason=body.reason,
            priority=body.reason.priority, status=status, channel=str(conversation.channel),
            summary=briefing.build_summary(body, names),
            emotion=body.emotion.model_dump() if body.emotion else None,
            turns=briefing.masked_turns(body, settings.transcript_turns),
            slots=briefing.masked_slots(body.slots),
            history=briefing.earlier_cases(db_session, conversation_id=conversation.id, mobile=mobile,
                                           limit=settings.history_rows),
            note=mask_text(body.note) if body.note else None, contact_mobile=mobile,
            left_messages=[], opened_seq=conversation.last_seq, alert_count=1, last_alert_at=now, created_at=now,
        )
        conversation_service.set_mode(db_session=db_session, conversation=conversation, mode=ConversationMode.waiting)
        answer = _created_answer(app, db_session, ticket, new=True)
    _router(app).hub.publish(QUEUE_TOPIC, {"type": "ticket_alert", "ticket_id": answer.ticket_id,
                                           "reason": str(body.reason), "status": str(answer.status),
                                           "realert": False})
    announce_queue(app)
    return answer


def waiting_event(app: FastAPI, position: int, agents_online: int) -> dict[str, Any]:
    """The event telling a waiting citizen their place and estimated wait."""
    return {"type": "handoff", "state": "waiting", "position": position,
            "estimated_wait_minutes": estimate_minutes(app, position, agents_online)}


def announce_queue(app: FastAPI) -> None:
    """Tells every waiting citizen their current place, and every console that the queue moved."""
    with app.state.database.session() as db_session:
        queue = handoff_service.get_queue(db_session=db_session)
        online = count_online(app, db_session)
        places = [(ticket.conversation_id, position) for position, ticket in enumerate(queue, start=1)]
    for conversation_id, position in places:
        _router(app).publish_event(conversation_id, waiting_event(app, position, online))
    _router(app).hub.publish(QUEUE_TOPIC, {"type": "queue_changed", "queued": len(places)})


def mark_presence(app: FastAPI, staff_id: int, *, online: bool) -> None:
    """Marks a member of staff on- or offline as they sign in or out; the queue's figures move with it."""
    with app.state.database.session() as db_session:
        handoff_service.set_presence(db_session=db_session, agent_id=staff_id, online=online)
    announce_queue(app)


async def describe_waiting(app: FastAPI, conversation_id: str) -> dict[str, Any] | None:
    """The waiting citizen's current place and estimate, as announce_queue publishes it."""
    async with app.state.database.async_session() as db_session:
        ticket = handoff_service.get_open_for_conversation(db_session=db_session, conversation_id=conversation_id)
        position = handoff_service.get_position(db_session=db_session, ticket=ticket) if ticket else None
        if position is None:
            return None
        online = count_online(app, db_session)
    return waiting_event(app, position, online)


def _is_cancel(settings: HandoffSettings, text: str) -> bool:
    return _CANCEL_PUNCTUATION.sub("", text) in settings.cancel_words


async def handle_waiting_message(router: ConversationRouter, conversation_id: str, text: str,
                                 metadata: dict[str, Any], *, app: FastAPI) -> list[dict[str, Any]]:
    """Answers a citizen in the queue: 不用了 ends the wait; anything else is kept for the agent."""
    settings = _settings(app)
    async with app.state.database.async_session() as db_session:
        conversation = conversation_service.get_or_404(db_session=db_session, conversation_id=conversation_id)
        ticket = handoff_service.get_open_for_conversation(db_session=db_session, conversation_id=conversation_id)
        if ticket is None:
            conversation_service.set_mode(db_session=db_session, conversation=conversation, mode=ConversationMode.bot)
            return [{"text": t("handoff", "cancelled")}]
        if ticket.status == TicketStatus.active:
            return []
        if _is_cancel(settings, text):
            keep = ticket.status == TicketStatus.callback and bool(ticket.left_messages)
            if not keep:
                handoff_service.finish(db_session=db_session, ticket=ticket, status=TicketStatus.cancelled)
            conversation_service.set_mode(db_session=db_session, conversation=conversation, mode=ConversationMode.bot)
            reply = t("handoff", "callback_kept" if keep else "cancelled")
            ticket_id, cancelled = ticket.id, not keep
        else:
            ticket.left_messages = [*ticket.left_messages, {"text": text, "at": utcnow().isoformat()}]
            if not ticket.contact_mobile:
                ticket.contact_mobile = find_mobile(text)
            db_session.flush()
            # Every second message gets other words, so two messages in a row never get the same reply.
            again = "_again" if len(ticket.left_messages) % 2 == 0 else ""
            if ticket.status == TicketStatus.queued:
                position = handoff_service.get_position(db_session=db_session, ticket=ticket) or 1
                reply = t("handoff", f"waiting_position{again}", position=position,
                          minutes=estimate_minutes(app, position, count_online(app, db_session)))
            else:
                reply = t("handoff", f"callback_message_saved{again}")
            ticket_id, cancelled = ticket.id, False
    if cancelled:
        router.publish_event(conversation_id, {"type": "handoff", "state": "cancelled", "ticket_id": ticket_id})
        announce_queue(app)
    else:
        router.hub.publish(QUEUE_TOPIC, {"type": "ticket_updated", "ticket_id": ticket_id})
    return [{"text": reply}]


async def handle_agent_message(router: ConversationRouter, conversation_id: str, text: str,
                               metadata: dict[str, Any], *, app: FastAPI) -> list[dict[str, Any]]:
    """Keeps the bot silent while an agent has the chat; the agent's console already got the message."""
    async with app.state.database.async_session() as db_session:
        ticket = handoff_service.get_open_for_conversation(db_session=db_session, conversation_id=conversation_id)
        agent_id = ticket.agent_id if ticket and ticket.status == TicketStatus.active else None
        ticket_id = ticket.id if ticket else None
    if agent_id is not None:
        router.hub.publish(agent_topic(agent_id), {"type": "citizen_message", "ticket_id": ticket_id,
                                                   "conversation_id": conversation_id})
    return []


async def claim_ticket(app: FastAPI, *, ticket_id: int, agent: Staff) -> HandoffTicket:
    """Gives a waiting ticket to the agent and tells the citizen who joined."""
    async with app.state.database.async_session() as db_session:
        ticket = handoff_service.claim(db_session=db_session, ticket_id=ticket_id, agent_id=agent.account_id)
        conversation = conversation_service.get_or_404(db_session=db_session, conversation_id=ticket.conversation_id)
        live = conversation.mode == ConversationMode.waiting
        if live:
            conversation_service.set_mode(db_session=db_session, conversation=conversation, mode=ConversationMode.agent)
    if live:
        await _router(app).record(ticket.conversation_id, Sender.system,
                                  [{"text": t("handoff", "agent_joined", agent_name=agent.display_name)}])
        _router(app).publish_event(ticket.conversation_id, {"type": "handoff", "state": "agent_joined",
                                                            "agent_name": agent.display_name})
    announce_queue(app)
    return ticket


def _owned_active(db_session: Session, ticket_id: int, agent: Staff) -> HandoffTicket:
    ticket = handoff_service.get_or_404(db_session=db_session, ticket_id=ticket_id)
    if ticket.status != TicketStatus.active:
        raise ConflictError("the chat is not in progress", code="ticket_not_active", details={"status": ticket.status})
    if ticket.agent_id != agent.id and agent.role != StaffRole.supervisor:
        raise ServiceError("this chat belongs to another agent", code="forbidden", status_code=403)
    return ticket


async def send_agent_reply(app: FastAPI, *, ticket_id: int, agent: Staff, text: str) -> None:
    """Delivers an agent's message to the citizen through their channel."""
    async with app.state.database.async_session() as db_session:
        ticket = _owned_active(db_session, ticket_id, agent)
        conversation_id = ticket.conversation_id
    await _router(app).record(conversation_id, Sender.agent, [{"text": text}], sender_name=agent.display_name)


async def transfer_ticket(app: FastAPI, *, ticket_id: int, agent: Staff, to_agent_id: int,
                          note: str | None = None) -> HandoffTicket:
    """Moves a chat to a colleague with a free slot; the note is for the colleague, never for the citizen."""
    async with app.state.database.async_session() as db_session:
        ticket = _owned_active(db_session, ticket_id, agent)
        ticket = handoff_service.transfer(db_session=db_session, ticket=ticket, from_agent_id=ticket.agent_id or 0,
                                          to_agent_id=to_agent_id)
        if note:
            handoff_service.add_note(db_session=db_session, ticket=ticket, author=agent, text=note,
                                     kind=NoteKind.transfer)
        target = handoff_service.get_agent(db_session=db_session, agent_id=to_agent_id)
        target_name = target.display_name if target else ""
    await _router(app).record(ticket.conversation_id, Sender.system,
                              [{"text": t("handoff", "agent_transferred", agent_name=target_name)}])
    _router(app).publish_event(ticket.conversation_id, {"type": "handoff", "state": "agent_joined",
                                                        "agent_name": target_name})
    _router(app).hub.publish(agent_topic(to_agent_id), {"type": "ticket_transferred", "ticket_id": ticket.id,
                                                        "from_agent": agent.display_name, "note": note})
    _router(app).hub.publish(QUEUE_TOPIC, {"type": "ticket_updated", "ticket_id": ticket.id})
    return ticket


async def add_note(app: FastAPI, *, ticket_id: int, author: Staff, text: str) -> HandoffTicketNote:
    """Keeps an internal note on an open ticket (its agent or a supervisor); it is never sent to the citizen."""
    async with app.state.database.async_session() as db_session:
        ticket = handoff_service.get_or_404(db_session=db_session, ticket_id=ticket_id)
        if not handoff_service.may_see(author, ticket):
            raise NotFoundError(f"handoff ticket {ticket_id} not found", code="ticket_not_found")
        if ticket.agent_id != author.id and not author.is_supervisor:
            raise ServiceError("only the agent in this chat or a supervisor may add notes", code="forbidden",
                               status_code=403)
        if ticket.status not in OPEN_STATUSES:
            raise ConflictError("the ticket is finished", code="ticket_finished", details={"status": ticket.status})
        note = handoff_service.add_note(db_session=db_session, ticket=ticket, author=author, text=text)
        owner_id = ticket.agent_id
    # Only the staff topic of the chat's agent: the conversation's topic reaches the citizen.
    if owner_id is not None and owner_id != author.id:
        _router(app).hub.publish(agent_topic(owner_id), {"type": "ticket_note", "ticket_id": ticket_id,
                                                         "author": author.display_name})
    return note


def rating_request(ticket_id: int) -> dict[str, Any]:
    """The rating question with one button per score, answered through the bot's /rate intent."""
    buttons = [{"title": t("handoff", "rating_button", stars="★" * n, rating=n), "payload": f'/rate{{"rating":{n}}}'}
               for n in range(5, 0, -1)]
    return {"text": t("handoff", "rating_request"), "buttons": buttons, "custom": {"handoff_ticket_id": ticket_id}}


async def end_chat(app: FastAPI, *, ticket_id: int, agent: Staff, disposition: Disposition,
                   note: str | None) -> HandoffTicket:
    """Closes a chat; the bot takes the conversation back and, unless handed back mid-way, asks for a rating."""
    async with app.state.database.async_session() as db_session:
        ticket = handoff_service.get_or_404(db_session=db_session, ticket_id=ticket_id)
        # A callback may be settled by phone without a chat; a queued ticket must be claimed first.
        if ticket.status != TicketStatus.callback:
            ticket = _owned_active(db_session, ticket_id, agent)
        handoff_service.finish(db_session=db_session, ticket=ticket, status=TicketStatus.closed,
                               disposition=disposition, note=note)
        conversation = conversation_service.get_or_404(db_session=db_session, conversation_id=ticket.conversation_id)
        was_live = conversation.mode in (ConversationMode.agent, ConversationMode.waiting)
        if was_live:
            conversation_service.set_mode(db_session=db_session, conversation=conversation, mode=ConversationMode.bot)
    router = _router(app)
    if was_live:
        router.publish_event(ticket.conversation_id, {"type": "handoff", "state": "agent_left"})
        if disposition == Disposition.returned_to_bot:
            await router.record(ticket.conversation_id, Sender.system, [{"text": t("handoff", "returned_to_bot")}])
        else:
            await router.record(ticket.conversation_id, Sender.system, [{"text": t("handoff", "agent_left")}])
            await _resume_bot(app, ticket)
    announce_queue(app)
    return ticket


async def _resume_bot(app: FastAPI, ticket: HandoffTicket) -> None:
    router = _router(app)
    try:
        replies = await app.state.rasa.trigger_intent(ticket.conversation_id, "handoff_resumed")
    except RasaUnavailable as exc:
        logger.warning("rasa unavailable when resuming %s: %s", ticket.conversation_id, exc)
        replies = []
    if not replies:
        replies = [rating_request(ticket.id)]
    await router.record(ticket.conversation_id, Sender.bot, replies)
    router.publish_event(ticket.conversation_id, {"type": "handoff", "state": "rating_requested",
                                                  "ticket_id": ticket.id})


def store_rating(app: FastAPI, *, db_session: Session, rating: int, comment: str | None,
                 ticket_id: int | None, conversation_id: str | None) -> HandoffTicket:
    """Stores a rating for the named ticket, or for the conversation's last closed ticket."""
    if ticket_id is None and conversation_id is None:
        raise ServiceError("give ticket_id or conversation_id", code="invalid_request", status_code=422)
    if ticket_id is not None:
        ticket = handoff_service.get_or_404(db_session=db_session, ticket_id=ticket_id)
        if conversation_id is not None and ticket.conversation_id != conversation_id:
            raise ServiceError(f"handoff ticket {ticket_id} not found", code="not_found", status_code=404)
    else:
        found = handoff_service.latest_closed_for_conversation(db_session=db_session,
                                                               conversation_id=conversation_id or "")
        if found is None:
            raise ServiceError("no finished chat to rate in this conversation", code="not_found", status_code=404)
        ticket = found
    handoff_service.add_rating(db_session=db_session, ticket=ticket, rating=rating, comment=comment)
    return ticket


def realert_due(app: FastAPI, now: datetime | None = None) -> list[int]:
    """Alerts the consoles again about tickets unclaimed for too long; returns their ids."""
    now = now or utcnow()
    before = now - timedelta(seconds=_settings(app).realert_after_seconds)
    alerts = []
    with app.state.database.session() as db_session:
        due = [(ticket.id, ticket.reason) for ticket in
               handoff_service.tickets_due_for_alert(db_session=db_session, before=before)]
    for ticket_id, reason in due:
        # One short transaction per ticket: another instance may be checking the same ones.
        with app.state.database.session() as db_session:
            count = handoff_service.take_alert(db_session=db_session, ticket_id=ticket_id, before=before, now=now)
        if count is not None:
            alerts.append((ticket_id, reason, count))
    for ticket_id, reason, count in alerts:
        _router(app).hub.publish(QUEUE_TOPIC, {"type": "ticket_alert", "ticket_id": ticket_id, "reason": reason,
                                               "status": "queued", "realert": True, "alert_count": count})
    return [ticket_id for ticket_id, _, _ in alerts]


async def run_realerts(app: FastAPI) -> None:
    """Checks for unclaimed tickets forever (the background task started with the app)."""
    while True:
        await asyncio.sleep(_settings(app).realert_check_seconds)
        try:
            realert_due(app)
        except Exception:  # noqa: BLE001 - a failed check must not stop the next ones
            logger.exception("re-alert check failed")


def ensure_demo_accounts(db_session: Session, settings: HandoffSettings | None = None) -> dict[str, str]:
    """Creates the demo agent, supervisor and knowledge-base operator if missing; returns {username: password}."""
    settings = settings or HandoffSettings()
    created: dict[str, str] = {}
    for username, role in ((settings.demo_agent_username, StaffRole.agent),
                           (settings.demo_supervisor_username, StaffRole.supervisor),
                           (settings.demo_operator_username, StaffRole.operator)):
        if handoff_service.get_agent_by_username(db_session=db_session, username=username):
            continue
        password = settings.demo_password or secrets.token_urlsafe(9)
        handoff_service.create_agent(db_session=db_session, username=username,
                                     display_name=t("handoff", f"demo_{role.value}_name"),
                                     password_hash=hash_password(password), role=role,
                                     max_chats=settings.default_max_chats)
        created[username] = password
    return created
