"""Reads and writes conversations and transcript messages (flush only; callers own the commit)."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conversations.enums import Channel, ConversationMode, Sender
from conversations.models import CONVERSATION_ID_PATTERN, Conversation, Message
from service.errors import NotFoundError, ServiceError


def validate_conversation_id(conversation_id: str) -> str:
    """Rejects ids that are empty, too long or carry characters outside [A-Za-z0-9_-]."""
    if not CONVERSATION_ID_PATTERN.match(conversation_id):
        raise ServiceError(
            "conversation id must be 1-64 characters of letters, digits, '-' or '_'",
            code="invalid_conversation_id",
        )
    return conversation_id


def get(*, db_session: Session, conversation_id: str) -> Conversation | None:
    """Gets a conversation by its id."""
    return db_session.get(Conversation, conversation_id)


def get_or_404(*, db_session: Session, conversation_id: str) -> Conversation:
    """Gets a conversation or raises NotFoundError."""
    conversation = get(db_session=db_session, conversation_id=validate_conversation_id(conversation_id))
    if conversation is None:
        raise NotFoundError(f"conversation {conversation_id} not found")
    return conversation


def get_or_create(
    *, db_session: Session, conversation_id: str, channel: Channel, citizen_ref: str | None = None
) -> Conversation:
    """Gets a conversation, creating it on the first message."""
    validate_conversation_id(conversation_id)
    conversation = get(db_session=db_session, conversation_id=conversation_id)
    if conversation is None:
        conversation = Conversation(
            id=conversation_id, channel=channel, mode=ConversationMode.bot,
            citizen_ref=citizen_ref, context={}, last_seq=0,
        )
        db_session.add(conversation)
        db_session.flush()
    elif citizen_ref and not conversation.citizen_ref:
        conversation.citizen_ref = citizen_ref
    return conversation


def append_message(
    *,
    db_session: Session,
    conversation_id: str,
    sender: Sender,
    text: str | None,
    payload: dict[str, Any] | None = None,
    sender_name: str | None = None,
) -> Message:
    """Appends a message with the next sequence number of its conversation."""
    # The increment happens in the database so concurrent writers never share a seq.
    seq = db_session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1)
        .returning(Conversation.last_seq)
    ).scalar_one()
    message = Message(
        conversation_id=conversation_id, seq=seq, sender=sender, text=text,
        payload=payload or {}, sender_name=sender_name,
    )
    db_session.add(message)
    db_session.flush()
    return message


def list_messages(
    *, db_session: Session, conversation_id: str, after_seq: int = 0, limit: int = 200
) -> list[Message]:
    """Lists a conversation's messages after a sequence number, oldest first."""
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(db_session.scalars(statement))


def recent_messages(*, db_session: Session, conversation_id: str, limit: int = 50) -> list[Message]:
    """Lists the last ``limit`` messages of a conversation, oldest first."""
    statement = (
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.seq.desc())
        .limit(limit)
    )
    return list(reversed(list(db_session.scalars(statement))))


def set_mode(*, db_session: Session, conversation: Conversation, mode: ConversationMode) -> Conversation:
    """Switches who answers the conversation."""
    conversation.mode = mode
    db_session.flush()
    return conversation


def update_context(*, db_session: Session, conversation: Conversation, values: dict[str, Any]) -> Conversation:
    """Merges values into the conversation's context (channel metadata, last service asked about...)."""
    conversation.context = {**(conversation.context or {}), **values}
    db_session.flush()
    return conversation
