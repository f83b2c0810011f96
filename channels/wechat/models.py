"""Tables of the WeChat channel: callback dedup, followers, the shared access_token and the outbox."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from channels.wechat.enums import DeliveryStatus, InboundStatus
from conversations.models import utcnow
from service.database import Base


class WeChatInbound(Base):
    """One callback from WeChat, keyed so that its retries are recognised by every instance."""

    __tablename__ = "wechat_inbound"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # MsgId for messages, FromUserName:CreateTime for events; unique across instances.
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    openid: Mapped[str] = mapped_column(String(128), index=True)
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.processing)
    reply_text: Mapped[str | None] = mapped_column(Text)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class WeChatFollower(Base):
    """A citizen who follows the account: subscription state and the buttons last shown."""

    __tablename__ = "wechat_follower"

    openid: Mapped[str] = mapped_column(String(128), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"title", "payload"}] of the last numbered list, so a reply of "2" maps to its payload.
    last_buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    subscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WeChatAccessToken(Base):
    """The account's access_token, shared by every instance; a lease coalesces refreshes."""

    __tablename__ = "wechat_access_token"

    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WeChatOutbound(Base):
    """A customer-service message to send (slow bot replies, agent messages), kept until delivered."""

    __tablename__ = "wechat_outbound"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(128), index=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.pending, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
