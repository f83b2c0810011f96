"""Recognises WeChat's retries of one callback through a unique key in the database.

WeChat retries a callback it got no answer to within 5 s, up to three times.
The first request to insert the key handles the message; every retry (on this
or any other instance) waits for that outcome and repeats it.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from channels.wechat.enums import InboundStatus
from channels.wechat.models import WeChatInbound
from service.database import Database

POLL_SECONDS = 0.05


@dataclass
class InboundOutcome:
    """What the first handling of a callback produced."""

    status: InboundStatus
    reply_text: str | None


def claim(database: Database, *, dedup_key: str, openid: str, msg_type: str, event: str | None) -> bool:
    """Records a callback; returns False when its key was already recorded (a retry)."""
    try:
        with database.session() as db_session:
            db_session.add(WeChatInbound(
                dedup_key=dedup_key, openid=openid, msg_type=msg_type[:32], event=(event or None) and event[:64],
                status=InboundStatus.processing, retries=0,
            ))
            db_session.flush()
    except IntegrityError:
        with database.session() as db_session:
            db_session.execute(
                update(WeChatInbound).where(WeChatInbound.dedup_key == dedup_key)
                .values(retries=WeChatInbound.retries + 1)
            )
        return False
    return True


def finish(database: Database, *, dedup_key: str, status: InboundStatus, reply_text: str | None = None) -> None:
    """Stores the outcome retries will repeat."""
    with database.session() as db_session:
        db_session.execute(
            update(WeChatInbound).where(WeChatInbound.dedup_key == dedup_key)
            .values(status=status, reply_text=reply_text, updated_at=datetime.now(UTC))
        )


def outcome(database: Database, *, dedup_key: str) -> InboundOutcome | None:
    """Reads the stored outcome of a callback."""
    with database.session() as db_session:
        row = db_session.execute(
            select(WeChatInbound.status, WeChatInbound.reply_text).where(WeChatInbound.dedup_key == dedup_key)
        ).first()
    return InboundOutcome(InboundStatus(row.status), row.reply_text) if row else None


async def wait_for_outcome(database: Database, *, dedup_key: str, budget_seconds: float) -> InboundOutcome | None:
    """Waits, up to the budget, for the first handling of a retried callback to finish."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_seconds
    while True:
        found = outcome(database, dedup_key=dedup_key)
        if found is not None and found.status != InboundStatus.processing:
            return found
        if loop.time() >= deadline:
            return found
        await asyncio.sleep(POLL_SECONDS)


def prune(database: Database, *, older_than_hours: int) -> int:
    """Removes dedup records older than WeChat could still retry them."""
    cutoff = datetime.now(UTC) - timedelta(hours=older_than_hours)
    with database.session() as db_session:
        result = db_session.execute(delete(WeChatInbound).where(WeChatInbound.created_at < cutoff))
        return cast("CursorResult[Any]", result).rowcount


def retries_seen(database: Database) -> int:
    """Counts retries recognised so far (for the benchmark and diagnostics)."""
    with database.session() as db_session:
        total = db_session.scalar(select(func.coalesce(func.sum(WeChatInbound.retries), 0)))
    return int(total or 0)
