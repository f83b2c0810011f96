"""Complaint tickets, their event history, escalations and the counters behind ticket numbers."""

import re
from datetime import datetime
from typing import Literal, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from complaints.enums import (
    ClockState,
    ComplaintCategory,
    ComplaintStatus,
    Deadline,
    EventKind,
    FollowUpOutcome,
    FollowUpStatus,
    Source,
    Urgency,
)
from service.database import Base
from service.pii import MOBILE_PATTERN, normalise_mobile

TICKET_NUMBER_PATTERN = re.compile(r"^TS\d{8}-\d{4,6}$")


class ComplaintDayCounter(Base):
    """The last sequence number handed out on one local day; row-locked while a number is allocated."""

    __tablename__ = "complaint_day_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Complaint(Base):
    """One complaint ticket with its service-standard clock."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    occurred: Mapped[str | None] = mapped_column(String(100))
    window: Mapped[str | None] = mapped_column(String(16), index=True)
    mobile: Mapped[str | None] = mapped_column(String(11), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # Four digits an anonymous citizen presents instead of a mobile's last four.
    lookup_code: Mapped[str | None] = mapped_column(String(4))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    media_url: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16), default=Source.chat)
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.submitted, index=True)
    assignee: Mapped[str | None] = mapped_column(String(64))
    is_repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_response_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    plan_due: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    plan_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When each deadline's overdue warning went out to the consoles: set once, by one instance.
    first_response_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    plan_alerted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How often a follow-up call found the citizen not satisfied and the ticket was worked again.
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    events: Mapped[list["ComplaintEvent"]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan"
    )


class ComplaintEvent(Base):
    """One step of a ticket's history: who did what, when, with what words."""

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    # Staff chose to show this note publicly (Open311 status_notes, masked); every other note stays internal.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    complaint: Mapped[Complaint] = relationship(back_populates="events")


class ComplaintEscalation(Base):
    """A risk signal a supervisor must see: why, and which earlier tickets it repeats."""

    __tablename__ = "complaint_escalation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    related_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ComplaintFollowUp(Base):
    """A follow-up call (回访) to the citizen after a resolution: when it is due, and what it found."""

    __tablename__ = "complaint_follow_up"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=FollowUpStatus.pending, index=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _optional_text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    return cleaned or None


class ComplaintCreate(BaseModel):
    """What filing a complaint needs; the description is kept exactly as given (rendered escaped)."""

    model_config = ConfigDict(extra="forbid")

    category: ComplaintCategory
    description: str
    location: str | None = Field(default=None, max_length=200)
    occurred: str | None = Field(default=None, max_length=100)
    window: str | None = Field(default=None, max_length=16)
    mobile: str | None = None
    anonymous: bool = False
    conversation_id: str | None = Field(default=None, max_length=64)
    contact_name: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    media_url: str | None = Field(default=None, max_length=500)
    source: Source = Source.chat

    @field_validator("location", "occurred", "window", "contact_name", "email", "media_url")
    @classmethod
    def _strip_optional(cls, value: str | None) -> str | None:
        return _optional_text(value)

    @field_validator("mobile")
    @classmethod
    def _valid_mobile(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        digits = normalise_mobile(value)
        if not MOBILE_PATTERN.match(digits):
            raise ValueError("mobile must be an 11-digit mainland mobile number")
        return digits


class StaffText(BaseModel):
    """A staff response, plan, resolution or closing note; ``is_public`` also shows it publicly (masked)."""

    model_config = ConfigDict(extra="forbid")

    text: str
    is_public: bool = False


class NoteIn(BaseModel):
    """An internal note on a ticket; never shown to the citizen."""

    model_config = ConfigDict(extra="forbid")

    text: str


class FollowUpIn(BaseModel):
    """What a follow-up call found; a not-satisfied outcome needs a note saying why."""

    model_config = ConfigDict(extra="forbid")

    outcome: FollowUpOutcome
    note: str | None = None


class AssignIn(BaseModel):
    """Who takes a ticket."""

    model_config = ConfigDict(extra="forbid")

    assignee: str = Field(min_length=1, max_length=64)


class CitizenVerification(BaseModel):
    """A ticket number and the four digits that prove the citizen owns it."""

    model_config = ConfigDict(extra="forbid")

    ticket_number: str = Field(max_length=40)
    verification: str | None = Field(default=None, max_length=10)
    requester: str = Field(default="anonymous", max_length=128)


class CitizenInfoIn(CitizenVerification):
    """More information a citizen adds to an open ticket."""

    text: str


class WithdrawIn(CitizenVerification):
    """A citizen withdrawing their ticket, optionally saying why."""

    reason: str | None = Field(default=None, max_length=500)


class UnderstandIn(BaseModel):
    """A citizen's message during the complaint form, and the question it answers."""

    text: str = Field(min_length=1, max_length=4000)
    asked: Literal["description", "category", "location", "contact", "confirmed"] | None = None
    # What the form already holds: a later message answering another question adds to it.
    known_description: str | None = Field(default=None, max_length=4000)
    known_location: str | None = Field(default=None, max_length=400)


class ClassifyIn(BaseModel):
    """Words to infer a category from."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=4000)


class EventRead(BaseModel):
    """A history step as staff see it."""

    model_config = ConfigDict(from_attributes=True)

    kind: EventKind
    actor: str
    text: str | None
    is_public: bool = False
    created_at: datetime


class DeadlineClockRead(BaseModel):
    """One deadline of a ticket: when it is due, when the step was taken, and the time left (negative: overdue)."""

    deadline: Deadline
    due_at: datetime
    done_at: datetime | None
    state: ClockState
    seconds_left: int | None


class FollowUpRead(BaseModel):
    """A follow-up call as staff see it (mobile masked)."""

    id: int
    number: str
    category_label: str
    status: FollowUpStatus
    due_at: datetime
    is_due: bool
    attempts: int
    outcome: FollowUpOutcome | None
    note: str | None
    done_by: str | None
    done_at: datetime | None
    resolved_at: datetime | None
    mobile_masked: str | None


class ComplaintRead(BaseModel):
    """A ticket as staff see it, with its urgency and risk flags."""

    number: str
    category: ComplaintCategory
    category_label: str
    status: ComplaintStatus
    status_label: str
    description: str
    location: str | None
    occurred: str | None
    window: str | None
    mobile_masked: str | None
    anonymous: bool
    source: Source
    conversation_id: str | None
    assignee: str | None
    is_repeat: bool
    escalated: bool
    urgency: Urgency
    current_due: datetime | None
    submitted_at: datetime
    updated_at: datetime
    first_response_due: datetime
    plan_due: datetime
    first_response_at: datetime | None
    plan_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int = 0
    clocks: list[DeadlineClockRead] = []
    events: list[EventRead] = []


class CitizenStatusRead(BaseModel):
    """What a citizen sees on a status lookup: the status and every staff response, nothing else."""

    number: str
    category_label: str
    status: ComplaintStatus
    status_label: str
    submitted_at: datetime
    first_response_due: datetime
    plan_due: datetime
    updates: list[dict[str, Any]]
    summary: str


class FiledRead(BaseModel):
    """The answer to filing: the number, deadlines said in plain Chinese, and the lookup code if anonymous."""

    number: str
    category: ComplaintCategory
    category_label: str
    first_response_due: datetime
    plan_due: datetime
    deadlines_text: str
    lookup_code: str | None
    is_repeat: bool
