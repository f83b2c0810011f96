"""Live events across service instances through Redis: delivered once, in order, to every instance."""

import asyncio
import time

from conversations.redis_hub import RedisEventHub


async def next_event(queue: asyncio.Queue, timeout: float = 2.0) -> dict:
    return await asyncio.wait_for(queue.get(), timeout)


def test_an_event_published_on_one_instance_reaches_the_others_subscribers(redis_url: str) -> None:
    async def scenario() -> None:
        a, b = RedisEventHub(redis_url), RedisEventHub(redis_url)
        await a.start()
        await b.start()
        on_a = a.subscribe("conversation:web-1")
        on_b = b.subscribe("conversation:web-1")
        started = time.perf_counter()
        assert b.publish("conversation:web-1", {"type": "message", "text": "坐席回复"}) == 1  # B's own socket at once
        assert (await next_event(on_a))["text"] == "坐席回复"
        latency = time.perf_counter() - started
        assert (await next_event(on_b))["text"] == "坐席回复"
        assert latency < 1.0
        await asyncio.sleep(0.2)
        assert on_a.empty() and on_b.empty()  # once each: B's event does not come back to B from Redis
        await a.stop()
        await b.stop()
    asyncio.run(scenario())


def test_events_keep_their_order_across_instances_and_topics_stay_apart(redis_url: str) -> None:
    async def scenario() -> None:
        a, b = RedisEventHub(redis_url), RedisEventHub(redis_url)
        await a.start()
        await b.start()
        mine = a.subscribe("conversation:web-2")
        other = a.subscribe("conversation:web-3")
        for seq in range(200):
            b.publish("conversation:web-2", {"type": "message", "seq": seq})
        received = [(await next_event(mine))["seq"] for _ in range(200)]
        assert received == list(range(200))
        assert other.empty()
        await a.stop()
        await b.stop()
    asyncio.run(scenario())


def test_redis_being_away_keeps_local_delivery() -> None:
    async def scenario() -> None:
        hub = RedisEventHub("redis://127.0.0.1:9/0", connect_seconds=1.0)  # nothing listens there
        started = time.perf_counter()
        await hub.start()
        queue = hub.subscribe("agents")
        assert hub.publish("agents", {"type": "queue_changed"}) == 1
        assert (await next_event(queue))["type"] == "queue_changed"
        await hub.stop()
        assert time.perf_counter() - started < 5
    asyncio.run(scenario())


def test_an_event_published_from_a_worker_thread_reaches_the_other_instance(redis_url: str) -> None:
    async def scenario() -> None:
        a, b = RedisEventHub(redis_url), RedisEventHub(redis_url)
        await a.start()
        await b.start()
        on_a = a.subscribe("complaints")
        await asyncio.to_thread(b.publish, "complaints", {"type": "escalation", "number": "TS-1"})
        assert (await next_event(on_a))["number"] == "TS-1"
        await a.stop()
        await b.stop()
    asyncio.run(scenario())


def test_garbage_on_the_hub_channel_is_ignored_and_later_events_still_arrive(redis_url: str) -> None:
    from redis import asyncio as aioredis

    async def scenario() -> None:
        a = RedisEventHub(redis_url)
        await a.start()
        queue = a.subscribe("agents")
        raw = aioredis.from_url(redis_url)
        for junk in (b"not json", b"[1, 2]", b'{"origin": "x", "topic": 5, "event": {}}',
                     b'{"origin": "x", "topic": "agents", "event": "no dict"}'):
            await raw.publish("hub:agents", junk)
        await raw.publish("hub:agents", '{"origin": "x", "topic": "agents", "event": {"type": "queue_changed"}}')
        assert (await next_event(queue)) == {"type": "queue_changed"}
        assert queue.empty()
        await raw.aclose()
        await a.stop()
    asyncio.run(scenario())
