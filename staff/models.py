"""Staff accounts and their console sessions, and their API schemas.

The tables keep the names they were created with (handoff_agent,
handoff_staff_session): handoff tickets point at them, and a rename would buy
nothing but a migration.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from conversations.models import utcnow
from service.database import Base
from staff.enums import StaffRole


class StaffMember(Base):
    """A console account: an agent, a supervisor or an operator."""

    __tablename__ = "handoff_agent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16), default=StaffRole.agent)
    max_chats: Mapped[int] = mapped_column(Integer, default=3)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Presence: the console refreshes last_seen_at while it is open.
    is_online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffSession(Base):
    """A server-side console session; the cookie holds a token whose hash is the key."""

    __tablename__ = "handoff_staff_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("handoff_agent.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StaffMemberRead(BaseModel):
    """A console user as other console users see them."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: StaffRole
    max_chats: int


class StaffMemberCreate(BaseModel):
    """A new console account."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=72)
    role: StaffRole = StaffRole.agent
    max_chats: int = Field(default=3, ge=1, le=20)
