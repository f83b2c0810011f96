"""The conversation router: every channel hands citizen messages here.

A message is stored first (so nothing is lost), then routed by the
conversation's mode: to Rasa in bot mode, to the handler registered for the
mode otherwise (handoff registers ``waiting`` and ``agent``). Replies are
stored, published on the conversation's hub topic and returned to the caller.

Database work happens in short transactions of its own, never held open while
Rasa thinks, so a slow bot never blocks other conversations' writes.
"""

import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from conversations import service as conversation_service
from conversations.enums import Channel, ConversationMode, Sender
from conversations.hub import EventHub
from conversations.models import ExchangeRead, MessageRead
from conversations.rasa_client import RasaClient, RasaUnavailable
from service.database import Database
from service.errors import NotFoundError, ServiceError
from service.texts import text as t

logger = logging.getLogger(__name__)

# Handles a citizen message while the conversation is not in bot mode; returns replies to store.
ModeHandler = Callable[["ConversationRouter", str, str, dict[str, Any]], Awaitable[list[dict[str, Any]]]]
# Pushes stored messages to a channel that cannot hold a websocket (e.g. WeChat).
ChannelPusher = Callable[[str, list[MessageRead]], Awaitable[None]]
# Describes where a conversation in a mode stands (e.g. its place in the queue), as a live event would.
ModeState = Callable[[str], Awaitable[dict[str, Any] | None]]

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_citizen_text(raw: str, max_chars: int) -> str:
    """Strips control characters and outer whitespace; rejects empty or over-long text."""
    cleaned = _CONTROL_CHARS.sub("", unicodedata.normalize("NFC", raw)).strip()
    if not cleaned:
        raise ServiceError("message text is empty", code="empty_text", status_code=422)
    if len(cleaned) > max_chars:
        raise ServiceError(
            f"message text is longer than {max_chars} characters",
            code="text_too_long", status_code=422, details={"max_chars": max_chars, "length": len(cleaned)},
        )
    return cleaned


def reply_payload(reply: dict[str, Any]) -> dict[str, Any]:
    """Keeps the parts of a Rasa reply a channel can render."""
    payload: dict[str, Any] = {}
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", b.get("title", "")))}
        for b in reply.get("buttons") or [] if isinstance(b, dict)
    ]
    if buttons:
        payload["buttons"] = buttons
    if reply.get("image"):
        payload["image"] = str(reply["image"])
    if isinstance(reply.get("custom"), dict):
        payload["custom"] = reply["custom"]
    return payload


class ConversationRouter:
    """Routes citizen messages and delivers bot, agent and system messages."""

    def __init__(self, *, database: Database, hub: EventHub, rasa: RasaClient, max_message_chars: int) -> None:
        self.database = database
        self.hub = hub
        self.rasa = rasa
        self.max_message_chars = max_message_chars
        self._mode_handlers: dict[ConversationMode, ModeHandler] = {}
        self._mode_states: dict[ConversationMode, ModeState] = {}
        self._pushers: dict[Channel, ChannelPusher] = {}

    def register_mode_handler(self, mode: ConversationMode, handler: ModeHandler) -> None:
        """Lets a domain answer citizen messages while the conversation is in ``mode``."""
        self._mode_handlers[mode] = handler

    def register_mode_state(self, mode: ConversationMode, describe: ModeState) -> None:
        """Lets a domain describe a conversation in ``mode`` to a channel that (re)connects."""
        self._mode_states[mode] = describe

    async def describe_mode(self, conversation_id: str, mode: ConversationMode) -> dict[str, Any] | None:
        """The latest state event of a conversation in ``mode``, for channels restoring their view."""
        describe = self._mode_states.get(mode)
        return await describe(conversation_id) if describe else None

    def register_pusher(self, channel: Channel, pusher: ChannelPusher) -> None:
        """Lets a channel receive messages that are not replies to a request (agent messages...)."""
        self._pushers[channel] = pusher

    async def receive(
        self,
        *,
        conversation_id: str,
        channel: Channel,
        text: str,
        metadata: dict[str, Any] | None = None,
        citizen_ref: str | None = None,
    ) -> ExchangeRead:
        """Stores a citizen message, routes it by mode, stores and returns the replies."""
        cleaned = clean_citizen_text(text, self.max_message_chars)
        metadata = dict(metadata or {})
        async with self.database.async_session() as db_session:
            conversation = conversation_service.get_or_create(
                db_session=db_session, conversation_id=conversation_id, channel=channel, citizen_ref=citizen_ref,
            )
            if conversation.channel != channel:
                # One channel's conversation is never reachable through another channel.
                raise NotFoundError("no conversation matches this id and access token", code="conversation_not_found")
            if metadata:
                conversation_service.update_context(db_session=db_session, conversation=conversation,
                                                    values={"metadata": metadata})
            stored = conversation_service.append_message(
                db_session=db_session, conversation_id=conversation_id, sender=Sender.citizen, text=cleaned,
            )
            mode = ConversationMode(conversation.mode)
            citizen_message = MessageRead.from_message(stored)
        self.hub.publish(f"conversation:{conversation_id}", {"type": "message", "message": citizen_message.model_dump(mode="json")})

        error: dict[str, str] | None = None
        if mode == ConversationMode.bot:
            self.hub.publish(f"conversation:{conversation_id}", {"type": "typing", "on": True, "by": "bot"})
            try:
                bot_metadata = {**metadata, "channel": str(channel)}
                raw_replies = await self.rasa.send_message(conversation_id, cleaned, bot_metadata)
                if not raw_replies:
                    raw_replies = [{"text": t("conversations", "empty_reply")}]
            except RasaUnavailable as exc:
                logger.warning("rasa unavailable for %s: %s", conversation_id, exc)
                raw_replies = [{"text": t("conversations", "service_busy")}]
                error = {"code": "bot_unavailable", "message": "the assistant is temporarily unavailable"}
            finally:
                self.hub.publish(f"conversation:{conversation_id}", {"type": "typing", "on": False, "by": "bot"})
        else:
            handler = self._mode_handlers.get(mode)
            raw_replies = await handler(self, conversation_id, cleaned, metadata) if handler else [
                {"text": t("conversations", "waiting_for_agent")}
            ]

        replies, mode_after = await self._store(
            conversation_id, Sender.bot if mode == ConversationMode.bot else Sender.system, raw_replies)
        return ExchangeRead(conversation_id=conversation_id, mode=mode_after, message=citizen_message,
                            replies=replies, error=error)

    async def record(
        self,
        conversation_id: str,
        sender: Sender,
        raw_messages: list[dict[str, Any]],
        *,
        sender_name: str | None = None,
        push: bool = True,
    ) -> list[MessageRead]:
        """Stores outgoing messages, publishes them, and pushes them to the citizen's channel if asked."""
        stored, _mode = await self._store(conversation_id, sender, raw_messages, sender_name=sender_name,
                                          push=push)
        return stored

    async def _store(
        self,
        conversation_id: str,
        sender: Sender,
        raw_messages: list[dict[str, Any]],
        *,
        sender_name: str | None = None,
        push: bool = False,
    ) -> tuple[list[MessageRead], ConversationMode]:
        """Stores and publishes messages; returns them and the conversation's mode, read in the same transaction."""
        stored: list[MessageRead] = []
        async with self.database.async_session() as db_session:
            conversation = conversation_service.get_or_404(db_session=db_session, conversation_id=conversation_id)
            channel = Channel(conversation.channel)
            mode = ConversationMode(conversation.mode)
            for raw in raw_messages:
                message = conversation_service.append_message(
                    db_session=db_session, conversation_id=conversation_id, sender=sender,
                    text=raw.get("text"), payload=reply_payload(raw), sender_name=sender_name,
                )
                stored.append(MessageRead.from_message(message))
        for message in stored:
            self.hub.publish(f"conversation:{conversation_id}", {"type": "message", "message": message.model_dump(mode="json")})
        pusher = self._pushers.get(channel)
        if push and pusher and stored:
            await pusher(conversation_id, stored)
        return stored, mode

    def publish_event(self, conversation_id: str, event: dict[str, Any]) -> None:
        """Publishes a non-message event (queue position, agent joined...) to the conversation's listeners."""
        self.hub.publish(f"conversation:{conversation_id}", event)
