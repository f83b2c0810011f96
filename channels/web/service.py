"""Remembers the widget's client message ids (flush only; callers own the commit)."""

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from channels.web.models import WebClientMessage


def get(*, db_session: Session, conversation_id: str, client_id: str) -> WebClientMessage | None:
    """Gets the record of a client message id in a conversation."""
    return db_session.scalars(
        select(WebClientMessage).where(
            WebClientMessage.conversation_id == conversation_id, WebClientMessage.client_id == client_id
        )
    ).first()


def claim(*, db_session: Session, conversation_id: str, client_id: str) -> WebClientMessage | None:
    """Records a client id as being processed; returns None when it was already seen."""
    if get(db_session=db_session, conversation_id=conversation_id, client_id=client_id) is not None:
        return None
    record = WebClientMessage(conversation_id=conversation_id, client_id=client_id)
    db_session.add(record)
    db_session.flush()
    return record


def set_seq(*, db_session: Session, conversation_id: str, client_id: str, seq: int) -> None:
    """Stores the transcript seq the client message became."""
    record = get(db_session=db_session, conversation_id=conversation_id, client_id=client_id)
    if record is not None:
        record.seq = seq
        db_session.flush()


def release(*, db_session: Session, conversation_id: str, client_id: str) -> None:
    """Forgets a client id whose message failed before it was stored, so a re-send is processed."""
    db_session.execute(
        delete(WebClientMessage).where(
            WebClientMessage.conversation_id == conversation_id, WebClientMessage.client_id == client_id
        )
    )


def prune(*, db_session: Session, conversation_id: str, keep: int) -> None:
    """Drops all but the newest ``keep`` client ids of a conversation."""
    oldest_kept = db_session.scalar(
        select(WebClientMessage.id).where(WebClientMessage.conversation_id == conversation_id)
        .order_by(WebClientMessage.id.desc()).offset(keep - 1).limit(1)
    )
    if oldest_kept is not None:
        db_session.execute(
            delete(WebClientMessage).where(
                WebClientMessage.conversation_id == conversation_id, WebClientMessage.id < oldest_kept
            )
        )
