"""Handoff tickets, ratings, internal notes, canned replies, and their API schemas."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conversations.enums import Channel
from conversations.flows import clean_citizen_text
from conversations.models import CONVERSATION_ID_PATTERN, utcnow
from handoff.enums import Disposition, HandoffReason, NoteKind, TicketStatus
from handoff.vocabulary import Emotion
from service.database import Base
from service.errors import ServiceError

# Row ids are SQL integers; an id past 32 bits cannot exist (and SQLite cannot even compare it).
MAX_ROW_ID = 2**31 - 1


class HandoffTicket(Base):
    """A conversation handed to people: queued, in a chat, waiting for a callback, or done."""

    __tablename__ = "handoff_ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    emotion: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    turns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    history: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    contact_mobile: Mapped[str | None] = mapped_column(String(32))
    # Messages a citizen left while waiting or outside working hours.
    left_messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Transcript messages up to this seq were exchanged before the handoff.
    opened_seq: Mapped[int] = mapped_column(Integer, default=0)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_agent.id"), index=True)
    disposition: Mapped[str | None] = mapped_column(String(32))
    close_note: Mapped[str | None] = mapped_column(Text)
    alert_count: Mapped[int] = mapped_column(Integer, default=1)
    last_alert_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TicketRating(Base):
    """A citizen's 1-5 satisfaction rating of a closed ticket."""

    __tablename__ = "handoff_rating"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_ticket.id", ondelete="CASCADE"), unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HandoffTicketNote(Base):
    """A note staff keep on a ticket (an agent's remark, a transfer's hand-over words); never shown to the citizen."""

    __tablename__ = "handoff_ticket_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=NoteKind.note)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_agent.id", ondelete="SET NULL"))
    # Kept as written, so the note still names its author if the account is renamed or removed.
    author_name: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HandoffCannedReply(Base):
    """A 标准化用语: a ready-made reply supervisors keep and agents insert into a chat, then edit and send."""

    __tablename__ = "handoff_canned_reply"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(40), unique=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(20))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # An inactive reply is kept for the supervisors but not offered to agents.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


def as_utc(value: datetime | None) -> datetime | None:
    """Marks a naive time (SQLite drops the zone) as UTC, which is how every time is stored."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _small_json(value: Any, limit: int, what: str) -> Any:
    if value is not None and len(repr(value)) > limit:
        raise ValueError(f"{what} is too large (max {limit} characters)")
    return value


class EmotionIn(BaseModel):
    """The emotion classifier's verdict on the citizen's latest message (labels: handoff.vocabulary)."""

    model_config = ConfigDict(use_enum_values=True)

    label: Emotion
    score: float = Field(ge=0, le=1)
    scores: dict[Emotion, float] = Field(default_factory=dict, max_length=20)


def _known_emotion(value: Any) -> Any:
    """A turn's emotion, a label or the classifier's verdict, must use the shared labels."""
    label = value.get("label") if isinstance(value, dict) else value
    if label is not None and label not in {emotion.value for emotion in Emotion}:
        raise ValueError(f"unknown emotion label {str(label)[:32]!r}")
    return value


class TurnIn(BaseModel):
    """One citizen turn as the bot understood it."""

    model_config = ConfigDict(extra="ignore")

    text: str | None = Field(default=None, max_length=2000)
    intent: str | None = Field(default=None, max_length=100)
    confidence: float | None = Field(default=None, ge=0, le=1)
    emotion: str | dict[str, Any] | None = None
    timestamp: float | str | None = None

    @field_validator("emotion")
    @classmethod
    def _small_emotion(cls, value: Any) -> Any:
        return _known_emotion(_small_json(value, 1000, "turn emotion"))


class TicketCreate(BaseModel):
    """What the bot sends when it hands a conversation to a person."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str = Field(min_length=1, max_length=64, pattern=CONVERSATION_ID_PATTERN.pattern)
    reason: HandoffReason
    emotion: EmotionIn | None = None
    turns: list[TurnIn] = Field(default_factory=list, max_length=200)
    slots: dict[str, Any] = Field(default_factory=dict)
    channel: Channel = Channel.api
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("slots")
    @classmethod
    def _small_slots(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _small_json(value, 8000, "slots")


class TicketCreated(BaseModel):
    """The service's answer to a handoff: where the citizen stands and what to tell them."""

    ticket_id: int
    status: TicketStatus
    position: int | None
    estimated_wait_minutes: int | None
    agents_online: int
    message: str


class RatingCreate(BaseModel):
    """A citizen's satisfaction rating."""

    model_config = ConfigDict(extra="forbid")

    ticket_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64,
                                        pattern=CONVERSATION_ID_PATTERN.pattern)
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)


class RatingRead(BaseModel):
    """A stored rating."""

    model_config = ConfigDict(from_attributes=True)

    ticket_id: int
    rating: int
    comment: str | None
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime | None:
        return as_utc(value)


class TicketRead(BaseModel):
    """A ticket as the console shows it in the queue and the context panel."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: str
    reason: HandoffReason
    status: TicketStatus
    channel: str
    summary: str
    emotion: dict[str, Any] | None
    turns: list[dict[str, Any]]
    slots: dict[str, Any]
    history: dict[str, Any]
    note: str | None
    contact_mobile: str | None
    left_messages: list[dict[str, Any]]
    agent_id: int | None
    disposition: str | None
    close_note: str | None
    alert_count: int
    created_at: datetime
    claimed_at: datetime | None
    closed_at: datetime | None
    position: int | None = None
    waiting_seconds: int | None = None

    @field_validator("created_at", "claimed_at", "closed_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)


class ReplyIn(BaseModel):
    """An agent's message to the citizen."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


def plain_text(value: str, max_chars: int) -> str:
    """Staff text as stored: control characters and outer whitespace removed, not empty, within the limit."""
    try:
        return clean_citizen_text(value, max_chars)
    except ServiceError as exc:
        raise ValueError(exc.message) from None


def _optional_text(value: str | None, max_chars: int) -> str | None:
    return plain_text(value, max_chars) if value is not None and value.strip() else None


NOTE_MAX_CHARS = 1000
TRANSFER_NOTE_MAX_CHARS = 500
CANNED_TITLE_MAX_CHARS = 40
CANNED_TEXT_MAX_CHARS = 1000
CANNED_CATEGORY_MAX_CHARS = 20


class TransferIn(BaseModel):
    """Hands an active ticket to another agent, optionally with a note the receiving agent reads."""

    model_config = ConfigDict(extra="forbid")

    agent_id: int = Field(ge=1, le=MAX_ROW_ID)
    note: str | None = Field(default=None, max_length=TRANSFER_NOTE_MAX_CHARS)

    @field_validator("note")
    @classmethod
    def _clean_note(cls, value: str | None) -> str | None:
        return _optional_text(value, TRANSFER_NOTE_MAX_CHARS)


class NoteIn(BaseModel):
    """An internal note on a ticket."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=NOTE_MAX_CHARS)

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        return plain_text(value, NOTE_MAX_CHARS)


class NoteRead(BaseModel):
    """An internal note as the context panel shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    kind: NoteKind
    author_name: str
    text: str
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime | None:
        return as_utc(value)


class CannedReplyIn(BaseModel):
    """A canned reply as a supervisor writes it (create, or replace on update); plain text, no markup."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=CANNED_TITLE_MAX_CHARS)
    text: str = Field(max_length=CANNED_TEXT_MAX_CHARS)
    category: str | None = Field(default=None, max_length=CANNED_CATEGORY_MAX_CHARS)
    # None places a new reply after the others (and keeps an edited reply where it was).
    sort_order: int | None = Field(default=None, ge=0, le=100000)
    is_active: bool = True

    @field_validator("title")
    @classmethod
    def _clean_title(cls, value: str) -> str:
        # A title is one line in the picker.
        return " ".join(plain_text(value, CANNED_TITLE_MAX_CHARS).split())

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        return plain_text(value, CANNED_TEXT_MAX_CHARS)

    @field_validator("category")
    @classmethod
    def _clean_category(cls, value: str | None) -> str | None:
        return _optional_text(value, CANNED_CATEGORY_MAX_CHARS)


class CannedReplyRead(BaseModel):
    """A stored canned reply."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    text: str
    category: str | None
    sort_order: int
    is_active: bool
    updated_by: str
    updated_at: datetime

    @field_validator("updated_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime | None:
        return as_utc(value)


class CloseIn(BaseModel):
    """Ends a ticket with its outcome."""

    model_config = ConfigDict(extra="forbid")

    disposition: Disposition
    note: str | None = Field(default=None, max_length=2000)
