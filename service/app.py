"""The FastAPI app factory: wires settings, database, router, channels and domain APIs."""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from conversations.flows import ConversationRouter
from conversations.hub import EventHub
from conversations.rasa_client import RasaClient
from conversations.views import router as conversations_router
from service.database import Database
from service.errors import error_body, install_error_handlers
from service.health import router as health_router
from service.openapi import install_openapi
from service.plugins import install_domains
from service.settings import Settings, get_settings


class BodySizeLimit(BaseHTTPMiddleware):
    """Refuses request bodies above the configured size before anything parses them."""

    def __init__(self, app: FastAPI, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Checks the declared and the actual body size."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            return JSONResponse(error_body("payload_too_large", f"request body exceeds {self.max_bytes} bytes"),
                                status_code=413)
        if request.method in {"POST", "PUT", "PATCH"} and not declared:
            body = await request.body()
            if len(body) > self.max_bytes:
                return JSONResponse(error_body("payload_too_large", f"request body exceeds {self.max_bytes} bytes"),
                                    status_code=413)
        return await call_next(request)


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


class RejectInvalidUnicode(BaseHTTPMiddleware):
    """Answers 422 to a JSON body that is not valid UTF-8 or carries a lone surrogate (no database or log stores it)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Looks for surrogate escapes only when the raw body has one, so ordinary requests cost nothing."""
        if request.method in {"POST", "PUT", "PATCH"} and "json" in request.headers.get("content-type", ""):
            body = await request.body()
            if not _is_encoded_text(body):
                return JSONResponse(error_body("invalid_unicode", "request body is not valid UTF-8 text"),
                                    status_code=422)
            if _SURROGATE_ESCAPE.search(body):
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                if _has_lone_surrogate(parsed):
                    return JSONResponse(error_body("invalid_unicode",
                                                   "request text contains an unpaired UTF-16 surrogate"),
                                        status_code=422)
        return await call_next(request)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the service; tests pass their own settings (e.g. a temporary database)."""
    settings = settings or get_settings()
    database = Database(settings.database_url)
    hub = EventHub()
    rasa = RasaClient(settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for start in app.state.startup_tasks:
            await start(app)
        yield
        for stop in app.state.shutdown_tasks:
            await stop(app)
        await rasa.close()
        database.dispose()

    app = FastAPI(title="政务服务智能助手", version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database
    app.state.hub = hub
    app.state.rasa = rasa
    app.state.router = ConversationRouter(
        database=database, hub=hub, rasa=rasa, max_message_chars=settings.max_message_chars
    )
    app.state.startup_tasks = []
    app.state.shutdown_tasks = []
    app.add_middleware(RejectInvalidUnicode)
    # Added last, so it runs first: an oversized body is refused before anything reads it.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(conversations_router)
    install_domains(app)
    install_openapi(app)
    return app
