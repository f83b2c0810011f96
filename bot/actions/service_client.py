"""The actions' one client to the service's internal API.

Actions stay thin: they gather slots, call the service, and turn its answer
into messages and events. Configuration comes from the action server's
environment (SERVICE_URL, INTERNAL_API_TOKEN), which the run script sets.
INTERNAL_API_TOKEN has no default: the action server refuses to start without
it (``bot.actions.server``), and a client without a token sends nothing.
"""

import asyncio
import os
import weakref
from typing import Any

import aiohttp

# One connection pool per event loop, shared by every client: a call reuses a kept-alive
# connection instead of opening a session (and a TCP connection) of its own.
_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]" = weakref.WeakKeyDictionary()


def shared_session() -> aiohttp.ClientSession:
    """The running loop's pooled session, created on first use."""
    loop = asyncio.get_running_loop()
    session = _pools.get(loop)
    if session is None or session.closed:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30))
        _pools[loop] = session
    return session


async def close_shared_session() -> None:
    """Closes the running loop's pool (at server stop)."""
    session = _pools.pop(asyncio.get_running_loop(), None)
    if session is not None:
        await session.close()


class ServiceUnavailable(Exception):
    """The service could not be reached or failed."""


class ServiceError(Exception):
    """The service refused the request (4xx) with a JSON error."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class ServiceClient:
    """Calls /internal/* endpoints of the service with the shared token."""

    def __init__(self, base_url: str | None = None, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = (base_url or os.environ.get("SERVICE_URL", "http://127.0.0.1:8000")).rstrip("/")
        self.token = token or os.environ.get("INTERNAL_API_TOKEN", "")
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Sends a request and returns the decoded JSON body."""
        if not self.token:
            raise ServiceUnavailable("INTERNAL_API_TOKEN is not set")
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with shared_session().request(method, f"{self.base_url}{path}", json=json, params=params,
                                                headers=headers, timeout=self.timeout) as response:
                body = await response.json(content_type=None)
                if 400 <= response.status < 500:
                    error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
                    raise ServiceError(response.status, error.get("code", "error"),
                                       error.get("message", ""), error.get("details"))
                if response.status >= 500:
                    raise ServiceUnavailable(f"service answered {response.status}")
                return body
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ServiceUnavailable(str(exc) or exc.__class__.__name__) from exc

    async def get(self, path: str, **params: Any) -> Any:
        """GETs an internal endpoint."""
        return await self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    async def post(self, path: str, json: Any = None) -> Any:
        """POSTs to an internal endpoint."""
        return await self.request("POST", path, json=json)
