"""Customer-service messages to citizens, stored before sending so nothing is lost.

Slow bot replies and agent messages are written here first, then sent in
order per citizen. WeChat refuses messages to citizens who have not written
within 48 hours (45015); those wait, marked ``window_closed``, until the
citizen writes again. Network failures stay ``pending`` for the periodic sweep.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult

from channels.wechat.access_token import WeChatApiError
from channels.wechat.customer_service import WINDOW_CLOSED, WeChatApi, split_for_wechat
from channels.wechat.enums import DeliveryStatus
from channels.wechat.models import WeChatOutbound
from service.database import Database

logger = logging.getLogger(__name__)

LEASE_SECONDS = 60
# Refusals that no retry will fix: invalid OpenID, citizen unsubscribed, content refused.
PERMANENT_ERRORS = {40003, 43004, 45047, 40008}


class Outbox:
    """Stores and delivers customer-service messages, per citizen in order."""

    def __init__(self, *, database: Database, api: WeChatApi) -> None:
        self.database = database
        self.api = api
        self._locks: dict[str, asyncio.Lock] = {}

    def enqueue(self, *, openid: str, conversation_id: str, texts: list[str]) -> int:
        """Stores messages to send; returns how many rows were written."""
        rows = [piece for content in texts for piece in split_for_wechat(content) if piece.strip()]
        with self.database.session() as db_session:
            for content in rows:
                db_session.add(WeChatOutbound(
                    openid=openid, conversation_id=conversation_id, content=content,
                    status=DeliveryStatus.pending, attempts=0,
                ))
        return len(rows)

    def reopen_window(self, *, openid: str) -> int:
        """The citizen wrote: messages held back by 45015 may be sent again."""
        with self.database.session() as db_session:
            return cast("CursorResult[Any]", db_session.execute(
                update(WeChatOutbound)
                .where(WeChatOutbound.openid == openid, WeChatOutbound.status == DeliveryStatus.window_closed)
                .values(status=DeliveryStatus.pending)
            )).rowcount

    def _claim_next(self, openid: str) -> WeChatOutbound | None:
        """Leases the oldest pending message of a citizen, so no other instance sends it at the same time."""
        now = datetime.now(UTC)
        with self.database.session() as db_session:
            row = db_session.scalars(
                select(WeChatOutbound)
                .where(WeChatOutbound.openid == openid, WeChatOutbound.status == DeliveryStatus.pending,
                       or_(WeChatOutbound.lease_until.is_(None), WeChatOutbound.lease_until < now))
                .order_by(WeChatOutbound.id).limit(1)
            ).first()
            if row is None:
                return None
            taken = cast("CursorResult[Any]", db_session.execute(
                update(WeChatOutbound)
                .where(WeChatOutbound.id == row.id, WeChatOutbound.status == DeliveryStatus.pending,
                       or_(WeChatOutbound.lease_until.is_(None), WeChatOutbound.lease_until < now))
                .values(lease_until=now + timedelta(seconds=LEASE_SECONDS), attempts=WeChatOutbound.attempts + 1)
            )).rowcount
            return row if taken else None

    def _settle(self, row_id: int, *, status: DeliveryStatus, error: str | None = None) -> None:
        """Records the result of one send and releases the lease."""
        values: dict[str, object] = {"status": status, "lease_until": None, "last_error": error}
        if status == DeliveryStatus.delivered:
            values["delivered_at"] = datetime.now(UTC)
        with self.database.session() as db_session:
            db_session.execute(update(WeChatOutbound).where(WeChatOutbound.id == row_id).values(**values))

    def _hold_all(self, openid: str) -> None:
        """After a 45015 every later message would be refused too; hold them all for the next contact."""
        with self.database.session() as db_session:
            db_session.execute(
                update(WeChatOutbound)
                .where(WeChatOutbound.openid == openid, WeChatOutbound.status == DeliveryStatus.pending)
                .values(status=DeliveryStatus.window_closed, lease_until=None)
            )

    async def flush(self, openid: str) -> int:
        """Sends a citizen's pending messages in order; stops at the first refusal. Returns how many went out."""
        lock = self._locks.setdefault(openid, asyncio.Lock())
        sent = 0
        async with lock:
            while (row := self._claim_next(openid)) is not None:
                try:
                    await self.api.send_text(openid, row.content)
                except WeChatApiError as exc:
                    if exc.errcode == WINDOW_CLOSED:
                        self._settle(row.id, status=DeliveryStatus.window_closed, error=str(exc)[:255])
                        self._hold_all(openid)
                    elif exc.errcode in PERMANENT_ERRORS:
                        self._settle(row.id, status=DeliveryStatus.rejected, error=str(exc)[:255])
                        continue
                    else:
                        logger.warning("customer-service message %s not sent: %s", row.id, exc)
                        self._settle(row.id, status=DeliveryStatus.pending, error=str(exc)[:255])
                    break
                self._settle(row.id, status=DeliveryStatus.delivered)
                sent += 1
        return sent

    async def sweep(self) -> int:
        """Retries every citizen with pending messages (after network failures or a restart)."""
        now = datetime.now(UTC)
        async with self.database.async_session() as db_session:
            openids = list(db_session.scalars(
                select(WeChatOutbound.openid).distinct()
                .where(WeChatOutbound.status == DeliveryStatus.pending,
                       or_(WeChatOutbound.lease_until.is_(None), WeChatOutbound.lease_until < now))
            ))
        sent = 0
        for openid in openids:
            sent += await self.flush(openid)
        return sent
