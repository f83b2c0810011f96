"""Handles WeChat callbacks end to end: dedup, dispatch by type, the 5-second window, late delivery."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from wechatpy.messages import BaseMessage

from channels.wechat import dedup, menu
from channels.wechat import service as follower_service
from channels.wechat.enums import InboundStatus
from channels.wechat.outbox import Outbox
from channels.wechat.protocol import Callback, CallbackCodec
from channels.wechat.replies import RenderedReplies, render_messages, render_prompt
from channels.wechat.settings import WeChatSettings
from conversations import service as conversation_service
from conversations.enums import Channel
from conversations.flows import ConversationRouter
from conversations.models import MessageRead
from service.database import Database
from service.errors import ServiceError
from service.texts import load_texts
from service.texts import text as t

logger = logging.getLogger(__name__)

SUCCESS = "success"
UNSUPPORTED_TYPES = {"image", "voice", "video", "shortvideo", "location", "link", "file", "unknown"}


def dedup_key_of(message: BaseMessage, fields: dict[str, str]) -> str:
    """MsgId identifies a message; events have none, so sender and creation time do."""
    msg_id = fields.get("MsgId") or fields.get("MsgID")
    if msg_id:
        return f"msg:{msg_id}"
    return f"evt:{fields.get('FromUserName', '')}:{fields.get('CreateTime', '')}:{fields.get('Event', '')}"


class WeChatChannel:
    """The WeChat Official Account as a channel of the conversation router."""

    def __init__(self, *, settings: WeChatSettings, database: Database, router: ConversationRouter,
                 codec: CallbackCodec, outbox: Outbox) -> None:
        self.settings = settings
        self.database = database
        self.router = router
        self.codec = codec
        self.outbox = outbox
        self._background: set[asyncio.Task[Any]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Runs work past the request's end, keeping a reference so it is not collected."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def drain(self, timeout: float) -> None:
        """Waits for background deliveries (at shutdown)."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=timeout)

    async def handle(self, params: dict[str, str], body: bytes) -> str:
        """Answers one POSTed callback with a passive reply (XML) or ``success``."""
        callback = self.codec.open(params, body)
        fields = callback.fields
        openid = fields["FromUserName"]
        key = dedup_key_of(callback.message, fields)
        first = dedup.claim(self.database, dedup_key=key, openid=openid,
                            msg_type=fields.get("MsgType", ""), event=fields.get("Event"))
        if not first:
            return await self._answer_retry(key, callback, params)

        task = asyncio.get_running_loop().create_task(self._process(callback))
        try:
            rendered = await asyncio.wait_for(asyncio.shield(task), self.settings.passive_reply_budget_seconds)
        except TimeoutError:
            # Too slow for WeChat's window: answer now, deliver through the customer-service API later.
            dedup.finish(self.database, dedup_key=key, status=InboundStatus.deferred)
            self.spawn(self._deliver_late(task, openid))
            return SUCCESS
        except Exception:
            dedup.finish(self.database, dedup_key=key, status=InboundStatus.ignored)
            raise
        if rendered is None or not rendered.texts:
            dedup.finish(self.database, dedup_key=key, status=InboundStatus.ignored)
            return SUCCESS
        reply_text = rendered.passive()
        dedup.finish(self.database, dedup_key=key, status=InboundStatus.replied, reply_text=reply_text)
        return self.codec.reply(callback, reply_text, params)

    async def _answer_retry(self, key: str, callback: Callback, params: dict[str, str]) -> str:
        """Repeats the first handling's passive reply, waiting for it within the budget."""
        found = await dedup.wait_for_outcome(self.database, dedup_key=key,
                                             budget_seconds=self.settings.passive_reply_budget_seconds)
        if found is not None and found.status == InboundStatus.replied and found.reply_text:
            return self.codec.reply(callback, found.reply_text, params)
        return SUCCESS

    async def _deliver_late(self, task: "asyncio.Task[RenderedReplies | None]", openid: str) -> None:
        """Sends a slow answer as consecutive customer-service messages, once it is ready."""
        try:
            rendered = await task
        except Exception:
            logger.exception("late WeChat reply for %s failed", openid)
            rendered = render_prompt(t("channels.wechat", "service_busy"), [])
        if rendered is None or not rendered.texts:
            return
        conversation_id = follower_service.conversation_id_for(openid)
        self.outbox.enqueue(openid=openid, conversation_id=conversation_id, texts=rendered.texts)
        await self.outbox.flush(openid)

    async def _process(self, callback: Callback) -> RenderedReplies | None:
        """Dispatches by message type; returns what to tell the citizen (None: nothing)."""
        fields = callback.fields
        openid = fields["FromUserName"]
        msg_type = fields.get("MsgType", "").lower()
        event = fields.get("Event", "").lower()

        if msg_type == "event" and event == "unsubscribe":
            async with self.database.async_session() as db_session:
                follower_service.set_subscribed(db_session=db_session, openid=openid, subscribed=False)
            return None

        async with self.database.async_session() as db_session:
            follower_service.touch(db_session=db_session, openid=openid)
        if self.outbox.reopen_window(openid=openid):
            self.spawn(self.outbox.flush(openid))

        if msg_type == "event":
            return await self._process_event(openid, event, fields)
        if msg_type == "text":
            return await self._process_text(openid, fields.get("Content", ""))
        if msg_type == "voice" and fields.get("Recognition", "").strip():
            return await self._process_text(openid, fields["Recognition"])
        return self._prompt(openid, t("channels.wechat", "unsupported"), [])

    async def _process_event(self, openid: str, event: str, fields: dict[str, str]) -> RenderedReplies | None:
        """Subscribe gets the welcome; menu clicks ask the bot or list the common questions."""
        if event == "subscribe":
            async with self.database.async_session() as db_session:
                follower_service.set_subscribed(db_session=db_session, openid=openid, subscribed=True)
            return self._prompt(openid, t("channels.wechat", "welcome"),
                                list(load_texts("channels.wechat")["welcome_buttons"]))
        if event == "click":
            key = fields.get("EventKey", "")
            if key == menu.FAQ:
                return self._prompt(openid, t("channels.wechat", "faq_intro"), menu.common_questions())
            if key in menu.INTENT_FOR_KEY:
                return await self._ask_router(openid, menu.INTENT_FOR_KEY[key])
            return self._prompt(openid, t("channels.wechat", "unknown_menu"), [])
        return None

    async def _process_text(self, openid: str, content: str) -> RenderedReplies:
        """Maps a numbered answer to its button, then asks the router."""
        async with self.database.async_session() as db_session:
            resolved = follower_service.resolve_number(db_session=db_session, openid=openid, text=content)
        if resolved == menu.FAQ:
            return self._prompt(openid, t("channels.wechat", "faq_intro"), menu.common_questions())
        return await self._ask_router(openid, resolved)

    async def _ask_router(self, openid: str, text: str) -> RenderedReplies:
        """Sends the citizen's text to the router and renders its replies."""
        try:
            exchange = await self.router.receive(
                conversation_id=follower_service.conversation_id_for(openid), channel=Channel.wechat,
                text=text, metadata={"channel": "wechat"}, citizen_ref=openid,
            )
        except ServiceError as exc:
            key = {"text_too_long": "text_too_long", "empty_text": "empty_text"}.get(exc.code, "service_busy")
            return self._prompt(openid, t("channels.wechat", key, max_chars=self.router.max_message_chars), [])
        return self._remember(openid, render_messages(exchange.replies))

    def _prompt(self, openid: str, intro: str, buttons: list[dict[str, Any]]) -> RenderedReplies:
        """Renders a channel-made message and remembers its numbered choices."""
        return self._remember(openid, render_prompt(intro, buttons))

    def _remember(self, openid: str, rendered: RenderedReplies) -> RenderedReplies:
        """Stores the numbered list just shown, so the next reply of a number maps back to it."""
        with self.database.session() as db_session:
            follower_service.remember_buttons(db_session=db_session, openid=openid, buttons=rendered.buttons)
        return rendered

    async def push(self, conversation_id: str, messages: list[MessageRead]) -> None:
        """Router pusher: agent and system messages go out through the customer-service API."""
        async with self.database.async_session() as db_session:
            openid = follower_service.openid_for_conversation(db_session=db_session, conversation_id=conversation_id)
            if openid is None:
                conversation = conversation_service.get(db_session=db_session, conversation_id=conversation_id)
                openid = conversation.citizen_ref if conversation else None
        if not openid:
            logger.warning("no OpenID for WeChat conversation %s; messages stay in the transcript", conversation_id)
            return
        rendered = self._remember(openid, render_messages(messages))
        if self.outbox.enqueue(openid=openid, conversation_id=conversation_id, texts=rendered.texts):
            self.spawn(self.outbox.flush(openid))

    async def sweep_forever(self) -> None:
        """Retries undelivered messages and prunes old dedup records, until cancelled."""
        while True:
            await asyncio.sleep(self.settings.outbox_sweep_seconds)
            try:
                await self.outbox.sweep()
                dedup.prune(self.database, older_than_hours=self.settings.inbound_retention_hours)
            except Exception:
                logger.exception("WeChat outbox sweep failed")
