"""Conversations and their transcript: the record every channel, handoff and report reads."""

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from conversations.enums import Channel, ConversationMode, Sender
from service.database import Base

CONVERSATION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def utcnow() -> datetime:
    """Returns the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Conversation(Base):
    """One citizen's conversation, identified by the channel's stable id."""

    __tablename__ = "conversation"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.api)
    mode: Mapped[str] = mapped_column(String(16), default=ConversationMode.bot, index=True)
    citizen_ref: Mapped[str | None] = mapped_column(String(128), index=True)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    messages: Mapped[list["Message"]] = relationship(
        back_populates="conversation", order_by="Message.seq", cascade="all, delete-orphan"
    )


class Message(Base):
    """One message of a transcript, in order (``seq``) with its time."""

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(16))
    sender_name: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class ConversationOpened(BaseModel):
    """A new conversation: its id and the access token every later request presents."""

    conversation_id: str
    access_token: str


class CitizenMessageIn(BaseModel):
    """What a citizen sends: text plus optional metadata from the channel or host page."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The citizen's message")
    metadata: dict[str, Any] | None = Field(default=None, description="Channel/host-page context")

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(repr(value)) > 4000:
            raise ValueError("metadata is too large (max 4000 characters)")
        return value


class Button(BaseModel):
    """A quick-reply button: the title shown and the payload sent back."""

    title: str
    payload: str


class MessageRead(BaseModel):
    """A transcript message as channels and consoles see it."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    sender: Sender
    sender_name: str | None = None
    text: str | None = None
    buttons: list[Button] = []
    image: str | None = None
    custom: dict[str, Any] | None = None
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        # SQLite drops the offset; every stored time is UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @classmethod
    def from_message(cls, message: Message) -> "MessageRead":
        """Flattens the stored payload into the public shape."""
        payload = message.payload or {}
        return cls(
            seq=message.seq,
            sender=Sender(message.sender),
            sender_name=message.sender_name,
            text=message.text,
            buttons=[Button(**b) for b in payload.get("buttons", [])],
            image=payload.get("image"),
            custom=payload.get("custom"),
            created_at=message.created_at,
        )


class ExchangeRead(BaseModel):
    """The result of one citizen message: its stored copy, the replies and the mode after it."""

    conversation_id: str
    mode: ConversationMode
    message: MessageRead
    replies: list[MessageRead]
    error: dict[str, str] | None = None


class TranscriptRead(BaseModel):
    """A conversation's transcript page."""

    conversation_id: str
    mode: ConversationMode
    messages: list[MessageRead]
