"""The event hub across service instances: local delivery plus Redis pub/sub.

Each instance keeps its own subscribers (the sockets connected to it). An event
published on an instance reaches its own subscribers at once, as with the
in-process hub, and is sent to Redis; every other instance receives it from
Redis and hands it to its subscribers. So a citizen's socket on instance A sees
an agent's reply sent through instance B. Events are sent in the order they
were published, on one connection, and Redis keeps that order.

Redis being away loses no message: the transcript is the record and a socket
re-syncs from it when it reconnects; only live pushes wait until Redis is back.
"""

import asyncio
import json
import logging
import uuid
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from conversations.hub import EventHub

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "hub:"
RECONNECT_SECONDS = 1.0
MAX_OUTBOX = 10_000


class RedisEventHub(EventHub):
    """``EventHub`` whose events also reach the subscribers of every other instance."""

    def __init__(self, redis_url: str, max_queue: int = 500, connect_seconds: float = 5.0) -> None:
        super().__init__(max_queue)
        self.redis_url = redis_url
        self.connect_seconds = connect_seconds
        self.origin = uuid.uuid4().hex  # this instance: its own events come back from Redis and are skipped
        self._redis: aioredis.Redis | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._listening = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def publish(self, topic: str, event: dict[str, Any]) -> int:
        """Delivers to this instance's subscribers now and queues the event for the others."""
        delivered = super().publish(topic, event)
        if self._outbox is not None and self._loop is not None:
            data = json.dumps({"origin": self.origin, "topic": topic, "event": event}, ensure_ascii=False,
                              default=str)
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is self._loop:
                self._enqueue(data, topic)
            else:  # a worker thread: the queue belongs to the loop
                self._loop.call_soon_threadsafe(self._enqueue, data, topic)
        return delivered

    def _enqueue(self, data: str, topic: str) -> None:
        assert self._outbox is not None
        try:
            self._outbox.put_nowait(data)
        except asyncio.QueueFull:
            logger.warning("hub outbox full: an event for %s reaches this instance only", topic)

    async def start(self) -> None:
        """Connects and starts the sender and the listener; waits until the listener is subscribed."""
        self._redis = aioredis.from_url(self.redis_url, health_check_interval=10)
        self._outbox = asyncio.Queue(MAX_OUTBOX)
        loop = self._loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._send(), name="hub-send"),
                       loop.create_task(self._listen(), name="hub-listen")]
        try:
            await asyncio.wait_for(self._listening.wait(), timeout=self.connect_seconds)
        except TimeoutError:
            logger.error("hub: Redis at %s not reachable; events stay on this instance until it is", self.redis_url)

    async def stop(self) -> None:
        """Sends what is queued (briefly), then stops."""
        if self._outbox is not None:
            for _ in range(50):
                if self._outbox.empty():
                    break
                await asyncio.sleep(0.02)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
        if self._redis is not None:
            await self._redis.aclose()

    async def _send(self) -> None:
        assert self._outbox is not None and self._redis is not None
        while True:
            data = await self._outbox.get()
            topic = json.loads(data)["topic"]
            while True:
                try:
                    await self._redis.publish(CHANNEL_PREFIX + topic, data)
                    break
                except RedisError as exc:
                    logger.warning("hub: publishing to Redis failed (%s); retrying", exc)
                    await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        assert self._redis is not None
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                self._listening.set()
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    self._deliver(message["data"])
            except RedisError as exc:
                self._listening.clear()
                logger.warning("hub: Redis subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                try:
                    await pubsub.aclose()
                except RedisError:
                    pass

    def _deliver(self, data: bytes | str) -> None:
        try:
            envelope = json.loads(data)
        except ValueError:
            return
        if not isinstance(envelope, dict) or envelope.get("origin") == self.origin:
            return
        topic, event = envelope.get("topic"), envelope.get("event")
        if isinstance(topic, str) and isinstance(event, dict):
            EventHub.publish(self, topic, event)
