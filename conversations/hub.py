"""In-process publish/subscribe for live events (new messages, queue changes).

Websocket handlers subscribe to topics such as ``conversation:<id>`` or
``agents``; anything that changes a conversation publishes there. Several
service instances would put Redis pub/sub behind this same interface.
"""

import asyncio
from collections import defaultdict
from typing import Any


class EventHub:
    """Fans events out to the queues subscribed to a topic."""

    def __init__(self, max_queue: int = 500) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._max_queue = max_queue

    def subscribe(self, topic: str) -> asyncio.Queue[dict[str, Any]]:
        """Returns a queue that receives every event published to the topic."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._max_queue)
        self._subscribers[topic].add(queue)
        return queue

    def unsubscribe(self, topic: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stops delivering the topic's events to the queue."""
        self._subscribers[topic].discard(queue)
        if not self._subscribers[topic]:
            self._subscribers.pop(topic, None)

    def publish(self, topic: str, event: dict[str, Any]) -> int:
        """Delivers an event to every subscriber; returns how many received it."""
        delivered = 0
        for queue in list(self._subscribers.get(topic, ())):
            try:
                queue.put_nowait(event)
                delivered += 1
            except asyncio.QueueFull:
                # A stalled client must not block everyone else; it re-syncs
                # from the transcript when it reconnects.
                pass
        return delivered

    def subscriber_count(self, topic: str) -> int:
        """Counts the live subscribers of a topic."""
        return len(self._subscribers.get(topic, ()))
