"""HTTP client for the Rasa servers: the router's webhook, health, and the token-protected API.

With several Rasa instances (``RASA_URL`` lists them, comma-separated), each
conversation goes to one instance chosen by a stable hash of its id, so
instances never contend for a conversation's lock and each keeps that
conversation's tracker warm (``bot/tracker_store.py``). When the instance
cannot be reached the request goes to the next one; the shared tracker store
and Redis lock store keep the conversation whole. A request that reached an
instance and failed there is not sent again: the turn may have been taken.
"""

import zlib
from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa could not be reached or answered with an error."""


def instance_order(sender: str, count: int) -> list[int]:
    """The instances to try for a conversation: its own first, then the following ones."""
    first = zlib.crc32(sender.encode("utf-8")) % count
    return [(first + step) % count for step in range(count)]


class RasaClient:
    """Talks to the Rasa instances' REST channel webhook and HTTP API."""

    def __init__(self, base_url: str, token: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        urls = [url.strip().rstrip("/") for url in base_url.split(",") if url.strip()]
        if not urls:
            raise ValueError("RASA_URL names no Rasa instance")
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
        self._clients = [httpx.AsyncClient(base_url=url, timeout=timeout, transport=transport, limits=limits)
                         for url in urls]
        self._token = token

    @property
    def instance_count(self) -> int:
        """How many Rasa instances the client spreads conversations over."""
        return len(self._clients)

    async def close(self) -> None:
        """Closes pooled connections."""
        for client in self._clients:
            await client.aclose()

    async def _request(self, sender: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Sends to the conversation's instance, or the next one that can be reached."""
        last_error: Exception | None = None
        for index in instance_order(sender, len(self._clients)):
            try:
                response = await self._clients[index].request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # never reached it: try the next
                last_error = exc
                continue
            except httpx.HTTPError as exc:
                raise RasaUnavailable(str(exc) or exc.__class__.__name__) from exc
            if response.status_code in (502, 503):  # an instance starting up or shutting down
                last_error = RasaUnavailable(f"rasa answered {response.status_code}")
                continue
            return response
        raise RasaUnavailable(str(last_error) or "no Rasa instance could be reached")

    async def send_message(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Sends a citizen message and returns the bot's replies."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        response = await self._request(sender, "POST", "/webhooks/rest/webhook", json=body)
        try:
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or exc.__class__.__name__) from exc
        if not isinstance(replies, list):
            raise RasaUnavailable("unexpected reply from Rasa")
        return [reply for reply in replies if isinstance(reply, dict)]

    async def is_healthy(self, timeout: float = 2.0) -> bool:
        """Tells whether a Rasa instance answers and has a model loaded."""
        for client in self._clients:
            try:
                response = await client.get("/status", params={"token": self._token}, timeout=timeout)
                if response.status_code == 200 and bool(response.json().get("model_file")):
                    return True
            except (httpx.HTTPError, ValueError):
                continue
        return False

    async def get_tracker(self, sender: str) -> dict[str, Any]:
        """Reads a conversation's tracker (events, slots, latest message)."""
        response = await self._request(sender, "GET", f"/conversations/{sender}/tracker",
                                       params={"token": self._token, "include_events": "ALL"})
        try:
            response.raise_for_status()
            tracker: dict[str, Any] = response.json()
            return tracker
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or exc.__class__.__name__) from exc

    async def trigger_intent(self, sender: str, intent: str, entities: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Injects an intent (e.g. resuming after a handoff) and returns the bot's replies."""
        response = await self._request(sender, "POST", f"/conversations/{sender}/trigger_intent",
                                       params={"token": self._token, "output_channel": "latest"},
                                       json={"name": intent, "entities": entities or {}})
        try:
            response.raise_for_status()
            messages = response.json().get("messages", [])
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or exc.__class__.__name__) from exc
        return [m for m in messages if isinstance(m, dict)]

    async def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Appends events to a tracker (e.g. setting a slot) without running the bot."""
        response = await self._request(sender, "POST", f"/conversations/{sender}/tracker/events",
                                       params={"token": self._token}, json=events)
        try:
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc) or exc.__class__.__name__) from exc


async def url_is_healthy(url: str, timeout: float = 2.0) -> bool:
    """Tells whether a plain health URL answers 200."""
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.get(url)
            return response.status_code == 200
    except httpx.HTTPError:
        return False
