"""Client message ids the widget sent, so a message re-sent after a reconnect is processed once."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conversations.models import utcnow
from service.database import Base


class WebClientMessage(Base):
    """One citizen message received over the websocket, keyed by the widget's client id."""

    __tablename__ = "web_client_message"
    __table_args__ = (UniqueConstraint("conversation_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    # The transcript seq of the stored citizen message, once the router stored it.
    seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
