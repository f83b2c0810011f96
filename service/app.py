"""The FastAPI app factory: wires settings, database, router, channels and domain APIs."""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conversations.flows import ConversationRouter
from conversations.hub import EventHub
from conversations.rasa_client import RasaClient
from conversations.redis_hub import RedisEventHub
from conversations.views import router as conversations_router
from service.database import Database
from service.errors import error_body, install_error_handlers
from service.health import router as health_router
from service.openapi import install_openapi
from service.plugins import install_domains
from service.settings import Settings, get_settings
from service.write_behind import WriteBehind

# A JSON \u escape of a UTF-16 surrogate: legal JSON syntax, but no character (unless paired).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _is_encoded_text(body: bytes) -> bool:
    # JSON is UTF-8 (or UTF-16/32 with the byte pattern json.loads recognises); anything else is no text at all.
    try:
        body.decode(json.detect_encoding(body))
    except UnicodeDecodeError:
        return False
    return True


BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestBodyGuard:
    """Refuses a body above the size limit (413) and JSON that is no valid text (422) before anything parses it.

    JSON that is not UTF-8, or that carries a lone surrogate escape, is refused so that
    no database or log stores it; surrogates are looked for only when the raw body has
    an escape that could be one, so ordinary requests cost nothing. A plain ASGI
    middleware: the body is read once and handed on unchanged.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> JSONResponse:
        return JSONResponse(error_body("payload_too_large", f"request body exceeds {self.max_bytes} bytes"),
                            status_code=413)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Checks the declared and the actual size, then the text of a JSON body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = _text_problem(body) if "json" in headers.get("content-type", "") else None
        if problem:
            await JSONResponse(error_body("invalid_unicode", problem), status_code=422)(scope, receive, send)
            return
        handed_on = False

        async def replay() -> Message:
            nonlocal handed_on
            if handed_on:
                return await receive()
            handed_on = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _text_problem(body: bytes) -> str | None:
    if not _is_encoded_text(body):
        return "request body is not valid UTF-8 text"
    if _SURROGATE_ESCAPE.search(body):
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        if _has_lone_surrogate(parsed):
            return "request text contains an unpaired UTF-16 surrogate"
    return None


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the service; tests pass their own settings (e.g. a temporary database)."""
    settings = settings or get_settings()
    database = Database(settings.database_url, settings.database_pool_size, settings.database_max_overflow)
    hub = RedisEventHub(settings.redis_url) if settings.redis_url else EventHub()
    write_behind = WriteBehind(database)
    rasa = RasaClient(settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if isinstance(hub, RedisEventHub):
            await hub.start()
        for start in app.state.startup_tasks:
            await start(app)
        write_behind.start()
        yield
        for stop in app.state.shutdown_tasks:
            await stop(app)
        await write_behind.stop()
        if isinstance(hub, RedisEventHub):
            await hub.stop()
        await rasa.close()
        database.dispose()

    app = FastAPI(title="政务服务智能助手", version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database
    app.state.hub = hub
    app.state.write_behind = write_behind
    app.state.rasa = rasa
    app.state.router = ConversationRouter(
        database=database, hub=hub, rasa=rasa, max_message_chars=settings.max_message_chars
    )
    app.state.startup_tasks = []
    app.state.shutdown_tasks = []
    app.add_middleware(RequestBodyGuard, max_bytes=settings.max_request_bytes)
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(conversations_router)
    install_domains(app)
    install_openapi(app)
    return app
