"""Appointment slots (capacity counters) and bookings, with their API schemas."""

from datetime import UTC, date, datetime, time

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Time, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from appointments.citizen_identity import normalise_code, normalise_mobile
from appointments.enums import BookingStatus, DayPart
from service.database import Base


def utcnow() -> datetime:
    """Returns the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class AppointmentSlot(Base):
    """One slot of one service on one day: the row every booking of it locks and counts on."""

    __tablename__ = "appointment_slot"
    __table_args__ = (UniqueConstraint("office_id", "service_id", "day", "start", name="uq_appointment_slot_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_id: Mapped[str] = mapped_column(String(32))
    service_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[time] = mapped_column(Time)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    """A citizen's appointment, identified to them by a short confirmation code."""

    __tablename__ = "appointment_booking"
    __table_args__ = (
        # One active booking per citizen (mobile) per service, enforced by the database.
        Index("uq_appointment_booking_active", "mobile", "service_id", unique=True,
              sqlite_where=text("status = 'booked'"), postgresql_where=text("status = 'booked'")),
        Index("ix_appointment_booking_day", "office_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slot.id"), index=True)
    office_id: Mapped[str] = mapped_column(String(32))
    window_id: Mapped[str] = mapped_column(String(32))
    service_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[time] = mapped_column(Time)
    name: Mapped[str] = mapped_column(String(64))
    mobile: Mapped[str] = mapped_column(String(16))
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.booked, index=True)
    # A retried confirmation carries the same key and gets the same booking back.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


NAME_MAX = 32


class BookingCreate(BaseModel):
    """What the conversation sends to book a slot."""

    model_config = ConfigDict(str_strip_whitespace=True)

    service_id: str = Field(min_length=1, max_length=64)
    day: date
    start: time
    name: str = Field(min_length=1, max_length=NAME_MAX)
    mobile: str = Field(min_length=1, max_length=24)
    id_number: str | None = Field(default=None, max_length=24)
    idempotency_key: str | None = Field(default=None, min_length=8, max_length=128)
    conversation_id: str | None = Field(default=None, max_length=64)

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str) -> str:
        return normalise_mobile(value)


class CodeCheck(BaseModel):
    """A confirmation code with the last 4 digits of the mobile it was booked with."""

    model_config = ConfigDict(str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=16)
    mobile_last4: str = Field(pattern=r"^\d{4}$")
    # Who is asking (the bot sends the conversation id); failed guesses are limited per code and requester.
    requester: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        return normalise_code(value)


class BookingReschedule(CodeCheck):
    """A new date and time for an existing booking."""

    day: date
    start: time


class AvailabilityQuery(BaseModel):
    """A service and a day, optionally narrowed to a time or part of the day."""

    service_id: str = Field(min_length=1, max_length=64)
    day: date
    start: time | None = None
    part: DayPart | None = None


class SlotRead(BaseModel):
    """A bookable slot with its remaining places."""

    day: date
    start: str
    end: str
    remaining: int
    label: str


class BookingRead(BaseModel):
    """A booking as the citizen and the bot see it (mobile and ID masked)."""

    code: str
    status: BookingStatus
    status_name: str
    service_id: str
    service_name: str
    office_name: str
    office_address: str
    window_id: str
    window_name: str
    day: date
    start: str
    end: str
    label: str
    name: str
    mobile_masked: str
    id_number_masked: str | None
    materials: list[str]
