"""The widget's websocket session: hub events go out, citizen frames come in through the router.

Every frame the widget sends is answered: an ``ack`` (with the transcript seq
the message became) or an ``error`` with a stable code; the socket stays open
after an error. Messages carry a client id the widget generates; a message
re-sent after a reconnect finds its id already claimed and is acknowledged
without being routed again.
"""

import asyncio
import json
import logging
import re
import time
from collections import deque
from typing import Any

import httpx
from fastapi import FastAPI, WebSocket
from sqlalchemy.exc import IntegrityError

from channels.web import service as web_service
from channels.web.settings import WebSettings
from conversations import access
from conversations import service as conversation_service
from conversations.enums import Channel, ConversationMode
from conversations.flows import ConversationRouter, clean_citizen_text
from conversations.models import MessageRead
from conversations.rate_limit import check_message_rate
from service.errors import ServiceError
from service.texts import text as t

logger = logging.getLogger(__name__)

CLIENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_COMMENT_CHARS = 500


class FrameError(Exception):
    """A client frame that cannot be processed; reported to the client, the socket stays open."""

    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


class WidgetSocket:
    """Serves one widget connection to one conversation."""

    def __init__(self, websocket: WebSocket, conversation_id: str) -> None:
        app: FastAPI = websocket.app
        self.app = app
        self.websocket = websocket
        self.conversation_id = conversation_id
        self.topic = f"conversation:{conversation_id}"
        self.router: ConversationRouter = app.state.router
        self.settings: WebSettings = app.state.settings.web
        self._send_lock = asyncio.Lock()
        self._recent_frames: deque[float] = deque()
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def serve(self) -> None:
        """Forwards hub events and handles client frames until the client goes away."""
        queue = self.app.state.hub.subscribe(self.topic)
        self._queue = queue
        forwarder = asyncio.create_task(self._forward(queue))
        try:
            while True:
                event = await self.websocket.receive()
                if event["type"] == "websocket.disconnect":
                    break
                raw = event.get("text")
                if raw is None and event.get("bytes") is not None:
                    raw = event["bytes"].decode("utf-8", errors="replace")
                await self._handle_raw(raw or "")
        finally:
            self.app.state.hub.unsubscribe(self.topic, queue)
            forwarder.cancel()

    async def send(self, payload: dict[str, Any]) -> bool:
        """Sends one JSON frame; False when the client is gone."""
        async with self._send_lock:
            try:
                await self.websocket.send_text(json.dumps(payload, ensure_ascii=False))
                return True
            except Exception:  # noqa: BLE001 - a vanished client is normal, not an error
                return False

    async def _forward(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Relays the conversation's hub events to the client."""
        while True:
            event = await queue.get()
            sent = await self.send(event)
            queue.task_done()
            if not sent:
                return

    async def _drain(self) -> None:
        """Waits until the events published so far went out, so an ack follows its message's replies."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout=2)
        except TimeoutError:
            pass

    async def _handle_raw(self, raw: str) -> None:
        """Parses a frame, dispatches it, and turns failures into error frames."""
        client_id: str | None = None
        kind: Any = None
        try:
            self._check_rate()
            if len(raw.encode("utf-8")) > self.settings.max_frame_bytes:
                raise FrameError("frame_too_large", f"frame exceeds {self.settings.max_frame_bytes} bytes")
            try:
                frame = json.loads(raw)
            except ValueError:
                raise FrameError("malformed_json", "frame is not valid JSON") from None
            if not isinstance(frame, dict):
                raise FrameError("invalid_frame", "frame must be a JSON object")
            if isinstance(frame.get("client_id"), str):
                client_id = frame["client_id"]
            kind = frame.get("type")
            if kind == "message":
                await self._on_message(frame)
            elif kind == "stop_waiting":
                await self._on_message({**frame, "text": t("channels.web", "stop_waiting_text")})
            elif kind == "rating":
                await self._on_rating(frame)
            elif kind == "sync":
                await self._on_sync(frame)
            elif kind == "ping":
                await self.send({"type": "pong"})
            else:
                raise FrameError("unknown_type", "frame type must be message, stop_waiting, rating, sync or ping")
        except Exception as exc:  # noqa: BLE001 - one failing frame must not end the citizen's chat
            if not isinstance(exc, FrameError):
                logger.exception("a web frame of %s failed", self.conversation_id)
                exc = FrameError("internal_error", "the frame could not be processed; try again")
            error: dict[str, Any] = {"type": "error", "code": exc.code, "message": exc.message}
            if exc.client_id or client_id:
                error["client_id"] = exc.client_id or client_id
            if isinstance(kind, str) and len(kind) <= 32:
                error["frame_type"] = kind
            await self.send(error)

    def _check_rate(self) -> None:
        """Refuses frames beyond the per-minute budget of this socket."""
        now = time.monotonic()
        while self._recent_frames and now - self._recent_frames[0] > 60:
            self._recent_frames.popleft()
        if len(self._recent_frames) >= self.settings.max_frames_per_minute:
            raise FrameError("rate_limited", "too many frames; wait a moment")
        self._recent_frames.append(now)

    def _metadata(self, frame: dict[str, Any], client_id: str) -> dict[str, Any]:
        """Validates the host-page context sent with a message."""
        metadata = frame.get("metadata")
        if metadata is None:
            return {}
        if not isinstance(metadata, dict):
            raise FrameError("invalid_metadata", "metadata must be a JSON object", client_id)
        if len(json.dumps(metadata, ensure_ascii=False)) > self.settings.max_metadata_chars:
            raise FrameError("metadata_too_large",
                             f"metadata exceeds {self.settings.max_metadata_chars} characters", client_id)
        return metadata

    async def _on_message(self, frame: dict[str, Any]) -> None:
        """Routes a citizen message once per client id and acknowledges it."""
        client_id = frame.get("client_id")
        if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.match(client_id):
            raise FrameError("invalid_client_id", "client_id must be 1-64 characters of letters, digits, '-' or '_'")
        text = frame.get("text")
        if not isinstance(text, str):
            raise FrameError("invalid_text", "text must be a string", client_id)
        try:
            cleaned = clean_citizen_text(text, self.router.max_message_chars)
        except ServiceError as exc:
            raise FrameError(exc.code, exc.message, client_id) from None
        metadata = self._metadata(frame, client_id)
        try:
            await check_message_rate(self.app, self.websocket, self.conversation_id)
        except ServiceError as exc:
            raise FrameError(exc.code, exc.message, client_id) from None

        database = self.app.state.database
        claimed = True
        try:
            async with database.async_session() as db_session:
                claimed = web_service.claim(db_session=db_session, conversation_id=self.conversation_id,
                                            client_id=client_id) is not None
        except IntegrityError:
            # Another socket (a second tab) claimed the same id between our read and our insert.
            claimed = False
        if not claimed:
            async with database.async_session() as db_session:
                seen = web_service.get(db_session=db_session, conversation_id=self.conversation_id,
                                       client_id=client_id)
                seen_seq = seen.seq if seen else None
            await self.send({"type": "ack", "client_id": client_id, "seq": seen_seq, "duplicate": True})
            return

        try:
            exchange = await self.router.receive(
                conversation_id=self.conversation_id, channel=Channel.web, text=cleaned, metadata=metadata,
            )
        except ServiceError as exc:
            self._release(client_id)
            raise FrameError(exc.code, exc.message, client_id) from None
        except Exception:
            logger.exception("routing a web message of %s failed", self.conversation_id)
            self._release(client_id)
            raise FrameError("internal_error", "the message could not be processed; send it again", client_id) from None

        async with database.async_session() as db_session:
            web_service.set_seq(db_session=db_session, conversation_id=self.conversation_id,
                                client_id=client_id, seq=exchange.message.seq)
            web_service.prune(db_session=db_session, conversation_id=self.conversation_id,
                              keep=self.settings.remembered_client_ids)
        ack: dict[str, Any] = {"type": "ack", "client_id": client_id, "seq": exchange.message.seq}
        if exchange.error:
            ack["warning"] = exchange.error["code"]
        await self._drain()
        await self.send(ack)

    def _release(self, client_id: str) -> None:
        """Forgets a claimed client id so the widget's re-send is processed."""
        with self.app.state.database.session() as db_session:
            web_service.release(db_session=db_session, conversation_id=self.conversation_id, client_id=client_id)

    async def _on_sync(self, frame: dict[str, Any]) -> None:
        """Sends the transcript after the client's last seq (the recent part when it has none)."""
        after = frame.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= 2**31 - 1:
            raise FrameError("invalid_after", "after must be a non-negative integer")
        limit = self.settings.sync_limit
        async with self.app.state.database.async_session() as db_session:
            conversation = conversation_service.get(db_session=db_session, conversation_id=self.conversation_id)
            if conversation is None:
                messages, mode = [], ConversationMode.bot
            else:
                mode = ConversationMode(conversation.mode)
                rows = (conversation_service.recent_messages(
                    db_session=db_session, conversation_id=self.conversation_id, limit=limit)
                        if after == 0 else conversation_service.list_messages(
                    db_session=db_session, conversation_id=self.conversation_id, after_seq=after, limit=limit))
                messages = [MessageRead.from_message(row).model_dump(mode="json") for row in rows]
        state = await self.app.state.router.describe_mode(self.conversation_id, mode)
        await self.send({"type": "sync", "mode": str(mode), "messages": messages,
                         "more": after > 0 and len(messages) == limit, "state": state})

    async def _on_rating(self, frame: dict[str, Any]) -> None:
        """Forwards a satisfaction rating to the handoff ratings API."""
        ticket_id = frame.get("ticket_id")
        rating = frame.get("rating")
        comment = frame.get("comment") or ""
        if not isinstance(ticket_id, int | str) or isinstance(ticket_id, bool) or ticket_id == "":
            raise FrameError("invalid_ticket", "ticket_id is required")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise FrameError("invalid_rating", "rating must be an integer from 1 to 5")
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS:
            raise FrameError("invalid_comment", f"comment must be text of at most {MAX_COMMENT_CHARS} characters")
        body = {"ticket_id": ticket_id, "conversation_id": self.conversation_id,
                "rating": rating, "comment": comment.strip()}
        # The ratings API owns validation and storage; calling it in-process keeps one code path.
        token = access.issue_token(self.app.state.settings.secret_key, Channel.web, self.conversation_id)
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            response = await client.post("/api/handoff/ratings", json=body,
                                         headers={"Authorization": f"Bearer {token}"})
        if response.is_success:
            await self.send({"type": "rating_saved", "ticket_id": ticket_id})
            return
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        raise FrameError(str(error.get("code") or "rating_failed"),
                         str(error.get("message") or "the rating could not be saved"))
