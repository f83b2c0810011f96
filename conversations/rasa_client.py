"""HTTP client for the Rasa server: the router's webhook, health, and the token-protected API."""

from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa could not be reached or answered with an error."""


class RasaClient:
    """Talks to Rasa's REST channel webhook and its HTTP API."""

    def __init__(self, base_url: str, token: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._token = token

    async def close(self) -> None:
        """Closes pooled connections."""
        await self._client.aclose()

    async def send_message(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Sends a citizen message and returns the bot's replies."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        try:
            response = await self._client.post("/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or exc.__class__.__name__) from exc
        if not isinstance(replies, list):
            raise RasaUnavailable("unexpected reply from Rasa")
        return [reply for reply in replies if isinstance(reply, dict)]

    async def is_healthy(self, timeout: float = 2.0) -> bool:
        """Tells whether the Rasa server answers and has a model loaded."""
        try:
            response = await self._client.get("/status", params={"token": self._token}, timeout=timeout)
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def get_tracker(self, sender: str) -> dict[str, Any]:
        """Reads a conversation's tracker (events, slots, latest message)."""
        try:
            response = await self._client.get(
                f"/conversations/{sender}/tracker", params={"token": self._token, "include_events": "ALL"}
            )
            response.raise_for_status()
            tracker: dict[str, Any] = response.json()
            return tracker
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or exc.__class__.__name__) from exc

    async def trigger_intent(self, sender: str, intent: str, entities: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Injects an intent (e.g. resuming after a handoff) and returns the bot's replies."""
        try:
            response = await self._client.post(
                f"/conversations/{sender}/trigger_intent",
                params={"token": self._token, "output_channel": "latest"},
                json={"name": intent, "entities": entities or {}},
            )
            response.raise_for_status()
            messages = response.json().get("messages", [])
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc) or exc.__class__.__name__) from exc
        return [m for m in messages if isinstance(m, dict)]

    async def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Appends events to a tracker (e.g. setting a slot) without running the bot."""
        try:
            response = await self._client.post(
                f"/conversations/{sender}/tracker/events", params={"token": self._token}, json=events
            )
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
