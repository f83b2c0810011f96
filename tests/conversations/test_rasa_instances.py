"""Several Rasa instances: one instance per conversation by a hash of its id, the next one when it is down."""

import asyncio
import json
import socket
from collections import Counter

import httpx
import pytest

from conversations.rasa_client import RasaClient, RasaUnavailable, instance_order


def closed_port() -> int:
    """A loopback port where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_each_conversation_has_one_instance_and_conversations_spread_over_all():
    owners = Counter(instance_order(f"web-{n}", 3)[0] for n in range(3000))
    assert set(owners) == {0, 1, 2}
    assert min(owners.values()) > 800  # roughly even
    assert all(instance_order("web-42", 3) == instance_order("web-42", 3) for _ in range(5))
    assert sorted(instance_order("web-42", 3)) == [0, 1, 2]


def recording_transport(seen: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        body = json.loads(request.content)
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": f"{request.url.host} 收到"}])
    return httpx.MockTransport(handle)


def test_every_turn_of_a_conversation_goes_to_the_same_instance():
    seen: list[str] = []
    client = RasaClient("http://a.test,http://b.test", "t", 2.0, transport=recording_transport(seen))

    async def scenario() -> None:
        for sender in ("web-1", "web-2", "web-3", "web-4"):
            for _ in range(4):
                await client.send_message(sender, "你好")
        await client.close()
    asyncio.run(scenario())
    per_conversation = [seen[i:i + 4] for i in range(0, 16, 4)]
    assert all(len(set(turns)) == 1 for turns in per_conversation)
    assert {turns[0] for turns in per_conversation} == {"a.test", "b.test"}


async def answering_server(text: str) -> tuple[asyncio.AbstractServer, int]:
    """A loopback HTTP server that answers every request with one bot reply."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        sender = json.loads(await reader.readexactly(length))["sender"]
        body = json.dumps([{"recipient_id": sender, "text": text}]).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_a_down_instance_sends_its_conversations_to_the_next_one():
    async def scenario() -> None:
        server, live = await answering_server("备用实例回复")
        down = closed_port()
        client = RasaClient(f"http://127.0.0.1:{down},http://127.0.0.1:{live}", "t", 2.0)
        owned_by_down = next(f"web-{n}" for n in range(100) if instance_order(f"web-{n}", 2)[0] == 0)
        replies = await client.send_message(owned_by_down, "你好")
        assert replies == [{"recipient_id": owned_by_down, "text": "备用实例回复"}]
        await client.close()
        server.close()

        everything_down = RasaClient(f"http://127.0.0.1:{closed_port()},http://127.0.0.1:{closed_port()}", "t", 2.0)
        with pytest.raises(RasaUnavailable):
            await everything_down.send_message("web-1", "你好")
        await everything_down.close()
    asyncio.run(scenario())


def test_a_turn_that_reached_an_instance_and_failed_is_not_sent_again():
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        raise httpx.ReadTimeout("took too long", request=request)

    client = RasaClient("http://a.test,http://b.test", "t", 2.0, transport=httpx.MockTransport(handle))

    async def scenario() -> None:
        with pytest.raises(RasaUnavailable):
            await client.send_message("web-7", "你好")
        await client.close()
    asyncio.run(scenario())
    assert len(seen) == 1  # the turn may have been taken: a second instance must not take it again


@pytest.mark.parametrize("urls", ["", " , ", ","])
def test_a_rasa_url_naming_no_instance_is_refused_at_start_up(urls: str) -> None:
    with pytest.raises(ValueError, match="no Rasa instance"):
        RasaClient(urls, "t", 2.0)
