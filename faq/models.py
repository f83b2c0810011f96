"""The FAQ query log and the FAQ API schemas."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conversations.models import utcnow
from faq.enums import AnswerStatus
from service.database import Base


class FaqQuery(Base):
    """One question put to the FAQ, with PII masked, and how it was answered."""

    __tablename__ = "faq_query"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # The citizen's words with phone and ID numbers masked; never the raw text.
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    entry_id: Mapped[str | None] = mapped_column(String(64), index=True)
    service: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class AnswerRequest(BaseModel):
    """What the action server asks: the citizen's text in the conversation's context."""

    model_config = ConfigDict(extra="ignore")

    conversation_id: str | None = Field(default=None, max_length=64)
    text: str = Field(default="", max_length=5000)
    current_service: str | None = Field(default=None, max_length=64)
    miss_count: int = Field(default=0, ge=0, le=1000)
    # Set when the citizen pressed a candidate button: answer that entry, no matching.
    entry_id: str | None = Field(default=None, max_length=80)


class Candidate(BaseModel):
    """An entry offered on a clarifying question."""

    entry_id: str
    title: str


class AnswerRead(BaseModel):
    """The reply the action sends to the citizen, and what it should remember."""

    status: AnswerStatus
    entry_id: str | None = None
    service: str | None = None
    confidence: float = 0.0
    text: str
    buttons: list[dict[str, str]] = []
    candidates: list[Candidate] = []
    miss_count: int = 0
    offer_human: bool = False


class EntryRead(BaseModel):
    """An entry with its answer rendered from the current catalogue."""

    id: str
    topic: str
    service: str
    aspect: str
    title: str
    text: str
    buttons: list[dict[str, str]]
    questions: list[str]


class ServiceRead(BaseModel):
    """A catalogue service."""

    id: str
    name: str
    aliases: list[str]
    department: str
    hall: str
    window: str
    address: str
    hours: str
    materials: list[str]
    fee: str
    time_limit: str
    online_url: str
    phone: str
    bookable: bool


class ReportRow(BaseModel):
    """One line of the traffic report."""

    key: str
    title: str | None = None
    count: int


class FaqReport(BaseModel):
    """Most asked entries and most frequent unanswered questions."""

    total_questions: int
    answered: int
    clarified: int
    unanswered: int
    top_entries: list[ReportRow]
    top_unanswered: list[ReportRow]


class ReloadRead(BaseModel):
    """Result of a knowledge base reload."""

    services: int
    entries: int
    questions: int
