"""Followers of the account: identity, subscription, and the numbered buttons they were last shown."""

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from channels.wechat.models import WeChatFollower
from conversations.models import CONVERSATION_ID_PATTERN

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def conversation_id_for(openid: str) -> str:
    """Maps an OpenID to the conversation id ``wx-<openid>`` (hashed if it does not fit the id rules)."""
    candidate = f"wx-{openid}"
    if CONVERSATION_ID_PATTERN.match(candidate):
        return candidate
    cleaned = _UNSAFE.sub("_", openid)[:40]
    digest = hashlib.sha256(openid.encode("utf-8")).hexdigest()[:16]
    return f"wx-{cleaned}-{digest}"


def get_or_create(*, db_session: Session, openid: str) -> WeChatFollower:
    """Gets a follower, creating it on first contact."""
    follower = db_session.get(WeChatFollower, openid)
    if follower is None:
        follower = WeChatFollower(openid=openid, conversation_id=conversation_id_for(openid), subscribed=True,
                                  last_buttons=[])
        db_session.add(follower)
        db_session.flush()
    return follower


def touch(*, db_session: Session, openid: str) -> WeChatFollower:
    """Records that the citizen just wrote (their 48-hour customer-service window is open)."""
    follower = get_or_create(db_session=db_session, openid=openid)
    follower.last_inbound_at = datetime.now(UTC)
    db_session.flush()
    return follower


def set_subscribed(*, db_session: Session, openid: str, subscribed: bool) -> WeChatFollower:
    """Records a subscribe or unsubscribe event."""
    follower = get_or_create(db_session=db_session, openid=openid)
    follower.subscribed = subscribed
    if subscribed:
        follower.subscribed_at = datetime.now(UTC)
    else:
        follower.unsubscribed_at = datetime.now(UTC)
    db_session.flush()
    return follower


def remember_buttons(*, db_session: Session, openid: str, buttons: list[dict[str, Any]]) -> None:
    """Keeps the last numbered list shown, replacing the previous one (an empty list clears it)."""
    follower = get_or_create(db_session=db_session, openid=openid)
    follower.last_buttons = [{"title": str(b["title"]), "payload": str(b["payload"])} for b in buttons]
    db_session.flush()


def resolve_number(*, db_session: Session, openid: str, text: str) -> str:
    """Maps a reply of just a number to the payload of that button in the last list; other text passes through."""
    stripped = text.strip()
    if not stripped.isdecimal() or len(stripped) > 3:
        return text
    follower = db_session.get(WeChatFollower, openid)
    buttons = follower.last_buttons if follower else []
    index = int(stripped) - 1
    if 0 <= index < len(buttons):
        return str(buttons[index]["payload"])
    return text


def openid_for_conversation(*, db_session: Session, conversation_id: str) -> str | None:
    """Finds the OpenID behind a WeChat conversation."""
    follower = db_session.query(WeChatFollower).filter(WeChatFollower.conversation_id == conversation_id).first()
    return follower.openid if follower else None
