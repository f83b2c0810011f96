"""Reads and writes handoff tickets, their notes, canned replies, staff accounts and ratings.

Flush only; callers own the commit.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, aliased

from conversations.models import utcnow
from handoff.enums import CLAIMABLE_STATUSES, OPEN_STATUSES, Disposition, NoteKind, TicketStatus
from handoff.models import CannedReplyIn, HandoffCannedReply, HandoffTicket, HandoffTicketNote, TicketRating
from service.errors import ConflictError, NotFoundError
from staff.auth import Staff
from staff.enums import StaffRole
from staff.models import StaffMember


def get(*, db_session: Session, ticket_id: int) -> HandoffTicket | None:
    """Gets a ticket by its id."""
    return db_session.get(HandoffTicket, ticket_id)


def get_or_404(*, db_session: Session, ticket_id: int) -> HandoffTicket:
    """Gets a ticket or raises NotFoundError."""
    ticket = get(db_session=db_session, ticket_id=ticket_id)
    if ticket is None:
        raise NotFoundError(f"handoff ticket {ticket_id} not found")
    return ticket


def may_see(staff: Staff, ticket: HandoffTicket) -> bool:
    """Agents see the open queue and their own chats; supervisors see every ticket."""
    return (staff.role == StaffRole.supervisor or ticket.agent_id == staff.id
            or ticket.status in CLAIMABLE_STATUSES)


def get_open_for_conversation(*, db_session: Session, conversation_id: str) -> HandoffTicket | None:
    """Gets the conversation's ticket that is still queued, awaiting a callback or in a chat."""
    statement = (
        select(HandoffTicket)
        .where(HandoffTicket.conversation_id == conversation_id, HandoffTicket.status.in_(OPEN_STATUSES))
        .order_by(HandoffTicket.id.desc())
        .limit(1)
    )
    return db_session.scalars(statement).first()


def create(*, db_session: Session, **values: Any) -> HandoffTicket:
    """Creates a ticket."""
    ticket = HandoffTicket(**values)
    db_session.add(ticket)
    db_session.flush()
    return ticket


def _queue_order() -> tuple[Any, ...]:
    return (HandoffTicket.priority, HandoffTicket.created_at, HandoffTicket.id)


def get_queue(*, db_session: Session, status: TicketStatus = TicketStatus.queued) -> list[HandoffTicket]:
    """Lists waiting tickets in serving order: priority (urgent first), then waiting time."""
    statement = select(HandoffTicket).where(HandoffTicket.status == status).order_by(*_queue_order())
    return list(db_session.scalars(statement))


def get_position(*, db_session: Session, ticket: HandoffTicket) -> int | None:
    """Returns the ticket's 1-based place in the queue, or None when it is not queued."""
    if ticket.status != TicketStatus.queued:
        return None
    ids = [t.id for t in get_queue(db_session=db_session)]
    return ids.index(ticket.id) + 1 if ticket.id in ids else None


def get_for_agent(*, db_session: Session, agent_id: int) -> list[HandoffTicket]:
    """Lists an agent's chats in progress."""
    statement = (select(HandoffTicket)
                 .where(HandoffTicket.agent_id == agent_id, HandoffTicket.status == TicketStatus.active)
                 .order_by(HandoffTicket.claimed_at))
    return list(db_session.scalars(statement))


def get_active(*, db_session: Session) -> list[HandoffTicket]:
    """Lists every chat in progress."""
    statement = select(HandoffTicket).where(HandoffTicket.status == TicketStatus.active).order_by(HandoffTicket.claimed_at)
    return list(db_session.scalars(statement))


def _active_count(agent_id: int) -> Any:
    # Aliased so the count never correlates with the ticket being updated.
    other = aliased(HandoffTicket)
    return (select(func.count()).select_from(other)
            .where(other.agent_id == agent_id, other.status == TicketStatus.active)
            .scalar_subquery())


def _lock_agent(db_session: Session, agent_id: int) -> StaffMember:
    # Row lock (PostgreSQL) serialises one agent's concurrent claims so capacity holds;
    # SQLite already serialises writers with BEGIN IMMEDIATE.
    agent = db_session.scalars(select(StaffMember).where(StaffMember.id == agent_id).with_for_update()).first()
    if agent is None or not agent.is_active:
        raise NotFoundError(f"agent {agent_id} not found")
    return agent


def claim(*, db_session: Session, ticket_id: int, agent_id: int, now: datetime | None = None) -> HandoffTicket:
    """Gives a waiting ticket to an agent, atomically: one conditional UPDATE, never two owners."""
    agent = _lock_agent(db_session, agent_id)
    result: CursorResult[Any] = db_session.execute(  # type: ignore[assignment]
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket_id, HandoffTicket.status.in_(CLAIMABLE_STATUSES),
               _active_count(agent_id) < agent.max_chats)
        .values(status=TicketStatus.active, agent_id=agent_id, claimed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    ticket = get_or_404(db_session=db_session, ticket_id=ticket_id)
    db_session.refresh(ticket)
    if result.rowcount != 1:
        if ticket.status not in CLAIMABLE_STATUSES:
            raise ConflictError("the ticket is no longer waiting", code="ticket_taken",
                                details={"status": ticket.status})
        raise ConflictError(f"you already have {agent.max_chats} chats open", code="capacity_full",
                            details={"max_chats": agent.max_chats})
    return ticket


def transfer(*, db_session: Session, ticket: HandoffTicket, from_agent_id: int, to_agent_id: int) -> HandoffTicket:
    """Moves an active chat to another agent who has room, atomically."""
    if to_agent_id == from_agent_id:
        raise ConflictError("the chat is already yours", code="same_agent")
    target = _lock_agent(db_session, to_agent_id)
    result: CursorResult[Any] = db_session.execute(  # type: ignore[assignment]
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket.id, HandoffTicket.status == TicketStatus.active,
               HandoffTicket.agent_id == from_agent_id, _active_count(to_agent_id) < target.max_chats)
        .values(agent_id=to_agent_id, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db_session.refresh(ticket)
    if result.rowcount != 1:
        if ticket.status != TicketStatus.active or ticket.agent_id != from_agent_id:
            raise ConflictError("the chat is not yours any more", code="ticket_moved")
        raise ConflictError(f"{target.display_name} has no free chat slot", code="capacity_full")
    return ticket


def finish(*, db_session: Session, ticket: HandoffTicket, status: TicketStatus,
           disposition: Disposition | None = None, note: str | None = None) -> HandoffTicket:
    """Closes or cancels a ticket."""
    ticket.status = status
    ticket.disposition = disposition
    ticket.close_note = note
    ticket.closed_at = utcnow()
    db_session.flush()
    return ticket


def tickets_due_for_alert(*, db_session: Session, before: datetime) -> list[HandoffTicket]:
    """Lists queued tickets nobody claimed since their last alert."""
    statement = (select(HandoffTicket)
                 .where(HandoffTicket.status == TicketStatus.queued, HandoffTicket.last_alert_at < before)
                 .order_by(*_queue_order()))
    return list(db_session.scalars(statement))


def take_alert(*, db_session: Session, ticket_id: int, before: datetime, now: datetime) -> int | None:
    """Counts a re-alert of a ticket if it is still due; returns the new count, or None if it is not due.

    A conditional update, so when several instances check at once exactly one of them
    alerts: the first moves ``last_alert_at`` past ``before`` and the others' update
    then matches no row (PostgreSQL re-checks the condition after the row lock;
    SQLite serialises the writers).
    """
    result = db_session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket_id, HandoffTicket.status == TicketStatus.queued,
               HandoffTicket.last_alert_at < before)
        .values(alert_count=HandoffTicket.alert_count + 1, last_alert_at=now)
        .returning(HandoffTicket.alert_count)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


def get_agent(*, db_session: Session, agent_id: int) -> StaffMember | None:
    """Gets a console user by id."""
    return db_session.get(StaffMember, agent_id)


def get_agent_by_username(*, db_session: Session, username: str) -> StaffMember | None:
    """Gets a console user by login name."""
    return db_session.scalars(select(StaffMember).where(StaffMember.username == username)).first()


def get_agents(*, db_session: Session) -> list[StaffMember]:
    """Lists active console users."""
    return list(db_session.scalars(select(StaffMember).where(StaffMember.is_active.is_(True)).order_by(StaffMember.username)))


def create_agent(*, db_session: Session, username: str, display_name: str, password_hash: str,
                 role: StaffRole, max_chats: int) -> StaffMember:
    """Creates a console user."""
    if get_agent_by_username(db_session=db_session, username=username):
        raise ConflictError(f"username {username} is taken", code="username_taken")
    agent = StaffMember(username=username, display_name=display_name, password_hash=password_hash,
                  role=role, max_chats=max_chats, is_active=True, is_online=False)
    db_session.add(agent)
    db_session.flush()
    return agent


def get_online_agents(*, db_session: Session, now: datetime, timeout_seconds: int) -> list[StaffMember]:
    """Lists staff whose console was seen recently."""
    statement = select(StaffMember).where(
        StaffMember.is_active.is_(True), StaffMember.is_online.is_(True),
        StaffMember.last_seen_at >= now - timedelta(seconds=timeout_seconds),
    ).order_by(StaffMember.username)
    return list(db_session.scalars(statement))


def set_presence(*, db_session: Session, agent_id: int, online: bool) -> None:
    """Marks a console user online (seen now) or offline."""
    db_session.execute(update(StaffMember).where(StaffMember.id == agent_id)
                       .values(is_online=online, last_seen_at=utcnow())
                       .execution_options(synchronize_session=False))


def latest_closed_for_conversation(*, db_session: Session, conversation_id: str) -> HandoffTicket | None:
    """Gets the conversation's most recently closed ticket (the one a rating is about)."""
    statement = (select(HandoffTicket)
                 .where(HandoffTicket.conversation_id == conversation_id, HandoffTicket.status == TicketStatus.closed)
                 .order_by(HandoffTicket.closed_at.desc(), HandoffTicket.id.desc()).limit(1))
    return db_session.scalars(statement).first()


def add_rating(*, db_session: Session, ticket: HandoffTicket, rating: int, comment: str | None) -> TicketRating:
    """Stores a closed ticket's rating; a second rating of the same ticket replaces nothing."""
    if ticket.status != TicketStatus.closed:
        raise ConflictError("only a closed chat can be rated", code="ticket_not_closed")
    if db_session.scalars(select(TicketRating).where(TicketRating.ticket_id == ticket.id)).first():
        raise ConflictError("this chat was already rated", code="already_rated")
    stored = TicketRating(ticket_id=ticket.id, rating=rating, comment=comment)
    db_session.add(stored)
    db_session.flush()
    return stored


def get_rating(*, db_session: Session, ticket_id: int) -> TicketRating | None:
    """Gets a ticket's rating."""
    return db_session.scalars(select(TicketRating).where(TicketRating.ticket_id == ticket_id)).first()


def get_ratings(*, db_session: Session, limit: int = 50) -> list[TicketRating]:
    """Lists the latest ratings."""
    return list(db_session.scalars(select(TicketRating).order_by(TicketRating.id.desc()).limit(limit)))


def rating_summary(*, db_session: Session) -> dict[str, Any]:
    """Counts ratings and their average."""
    count, average = db_session.execute(select(func.count(TicketRating.id), func.avg(TicketRating.rating))).one()
    return {"count": int(count or 0), "average": round(float(average), 2) if average is not None else None}


def add_note(*, db_session: Session, ticket: HandoffTicket, author: Staff, text: str,
             kind: NoteKind = NoteKind.note) -> HandoffTicketNote:
    """Adds an internal note to a ticket."""
    note = HandoffTicketNote(ticket_id=ticket.id, kind=kind, author_id=author.id, author_name=author.display_name,
                             text=text, created_at=utcnow())
    db_session.add(note)
    db_session.flush()
    return note


def get_notes(*, db_session: Session, ticket_id: int) -> list[HandoffTicketNote]:
    """Lists a ticket's internal notes, oldest first."""
    statement = (select(HandoffTicketNote).where(HandoffTicketNote.ticket_id == ticket_id)
                 .order_by(HandoffTicketNote.created_at, HandoffTicketNote.id))
    return list(db_session.scalars(statement))


def get_canned(*, db_session: Session, reply_id: int) -> HandoffCannedReply | None:
    """Gets a canned reply by its id."""
    return db_session.get(HandoffCannedReply, reply_id)


def get_canned_or_404(*, db_session: Session, reply_id: int) -> HandoffCannedReply:
    """Gets a canned reply or raises NotFoundError."""
    reply = get_canned(db_session=db_session, reply_id=reply_id)
    if reply is None:
        raise NotFoundError(f"canned reply {reply_id} not found", code="canned_reply_not_found")
    return reply


def get_all_canned(*, db_session: Session, include_inactive: bool = False) -> list[HandoffCannedReply]:
    """Lists canned replies in the order agents see them; only the active ones unless asked."""
    statement = select(HandoffCannedReply).order_by(HandoffCannedReply.sort_order, HandoffCannedReply.id)
    if not include_inactive:
        statement = statement.where(HandoffCannedReply.is_active.is_(True))
    return list(db_session.scalars(statement))


def _check_title_free(db_session: Session, title: str, reply_id: int | None) -> None:
    taken = db_session.scalars(select(HandoffCannedReply.id).where(HandoffCannedReply.title == title)).first()
    if taken is not None and taken != reply_id:
        raise ConflictError(f"a canned reply titled {title!r} exists", code="canned_title_taken",
                            details={"id": taken})


def create_canned(*, db_session: Session, canned_in: CannedReplyIn, updated_by: str) -> HandoffCannedReply:
    """Creates a canned reply; without a sort order it goes after the others."""
    _check_title_free(db_session, canned_in.title, None)
    sort_order = canned_in.sort_order
    if sort_order is None:
        last = db_session.scalar(select(func.max(HandoffCannedReply.sort_order)))
        sort_order = (last or 0) + 10
    reply = HandoffCannedReply(title=canned_in.title, text=canned_in.text, category=canned_in.category,
                               sort_order=sort_order, is_active=canned_in.is_active, updated_by=updated_by,
                               updated_at=utcnow())
    db_session.add(reply)
    db_session.flush()
    return reply


def update_canned(*, db_session: Session, reply: HandoffCannedReply, canned_in: CannedReplyIn,
                  updated_by: str) -> HandoffCannedReply:
    """Replaces a canned reply's fields (its place stays unless a sort order is given)."""
    _check_title_free(db_session, canned_in.title, reply.id)
    reply.title = canned_in.title
    reply.text = canned_in.text
    reply.category = canned_in.category
    if canned_in.sort_order is not None:
        reply.sort_order = canned_in.sort_order
    reply.is_active = canned_in.is_active
    reply.updated_by = updated_by
    reply.updated_at = utcnow()
    db_session.flush()
    return reply


def delete_canned(*, db_session: Session, reply: HandoffCannedReply) -> None:
    """Deletes a canned reply."""
    db_session.delete(reply)
    db_session.flush()
