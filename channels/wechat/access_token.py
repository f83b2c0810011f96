"""The account's access_token: fetched from cgi-bin/token, cached in the database, refreshed once at a time.

Every service instance reads the same row, so the token is fetched once for all
of them (WeChat invalidates the previous token on each fetch and caps fetches a
day). Within one process an asyncio lock coalesces refreshes; across processes
a short lease on the row does.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from channels.wechat.models import WeChatAccessToken
from channels.wechat.settings import WeChatSettings
from service.database import Database

LEASE_SECONDS = 10


class WeChatApiError(Exception):
    """WeChat answered with a non-zero errcode (or not at all)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def as_aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; they were written in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class AccessTokenStore:
    """Hands out a valid access_token, refreshing it before expiry."""

    def __init__(self, *, settings: WeChatSettings, database: Database, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.database = database
        self.http = http
        self._lock = asyncio.Lock()
        self.fetches = 0

    def _cached(self, *, stale: str | None = None) -> str | None:
        """Returns the stored token if it is valid for longer than the refresh margin."""
        margin = timedelta(seconds=self.settings.token_refresh_margin_seconds)
        with self.database.session() as db_session:
            row = db_session.get(WeChatAccessToken, self.settings.app_id)
            expires_at = as_aware(row.expires_at) if row else None
            if row and row.access_token and expires_at and expires_at - margin > datetime.now(UTC):
                if row.access_token != stale:
                    return row.access_token
        return None

    async def get(self, *, stale: str | None = None) -> str:
        """Returns a valid token; ``stale`` is a token WeChat just refused, which must not be reused."""
        token = self._cached(stale=stale)
        if token:
            return token
        async with self._lock:
            token = self._cached(stale=stale)
            if token:
                return token
            return await self._refresh(stale=stale)

    def _take_lease(self) -> bool:
        """Claims the right to fetch a new token for a few seconds (one instance at a time)."""
        now = datetime.now(UTC)
        with self.database.session() as db_session:
            if db_session.get(WeChatAccessToken, self.settings.app_id) is None:
                try:
                    with db_session.begin_nested():
                        db_session.add(WeChatAccessToken(app_id=self.settings.app_id))
                except IntegrityError:
                    pass
            taken = cast("CursorResult[Any]", db_session.execute(
                update(WeChatAccessToken)
                .where(WeChatAccessToken.app_id == self.settings.app_id,
                       or_(WeChatAccessToken.refresh_lease_until.is_(None),
                           WeChatAccessToken.refresh_lease_until < now))
                .values(refresh_lease_until=now + timedelta(seconds=LEASE_SECONDS))
            )).rowcount
        return bool(taken)

    async def _refresh(self, *, stale: str | None) -> str:
        """Fetches a new token, or waits for the instance that holds the lease to do so."""
        deadline = asyncio.get_running_loop().time() + LEASE_SECONDS
        while not self._take_lease():
            await asyncio.sleep(0.2)
            token = self._cached(stale=stale)
            if token:
                return token
            if asyncio.get_running_loop().time() > deadline:
                break
        try:
            token, expires_in = await self._fetch()
        finally:
            self._release_lease()
        now = datetime.now(UTC)
        async with self.database.async_session() as db_session:
            db_session.execute(
                update(WeChatAccessToken).where(WeChatAccessToken.app_id == self.settings.app_id)
                .values(access_token=token, expires_at=now + timedelta(seconds=expires_in), refreshed_at=now)
            )
        return token

    def _release_lease(self) -> None:
        """Lets the next refresher in."""
        with self.database.session() as db_session:
            db_session.execute(
                update(WeChatAccessToken).where(WeChatAccessToken.app_id == self.settings.app_id)
                .values(refresh_lease_until=None)
            )

    async def _fetch(self) -> tuple[str, int]:
        """Calls cgi-bin/token with the AppID and AppSecret."""
        self.fetches += 1
        try:
            response = await self.http.get(
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.settings.app_id,
                        "secret": self.settings.app_secret},
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WeChatApiError(-1, f"token endpoint unreachable: {exc.__class__.__name__}") from exc
        if not isinstance(body, dict) or not body.get("access_token"):
            errcode = int(body.get("errcode", -1)) if isinstance(body, dict) else -1
            raise WeChatApiError(errcode, str(body.get("errmsg", "no access_token")) if isinstance(body, dict) else "")
        return str(body["access_token"]), int(body.get("expires_in", 7200))

    def stored_token(self) -> str | None:
        """Returns the token currently in the database (for diagnostics)."""
        with self.database.session() as db_session:
            return db_session.scalar(
                select(WeChatAccessToken.access_token).where(WeChatAccessToken.app_id == self.settings.app_id)
            )
