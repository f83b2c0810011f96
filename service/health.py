"""GET /healthz: the service, Rasa and the action server, each reported on its own."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from conversations.rasa_client import url_is_healthy
from service.database import TransactionalRoute

router = APIRouter(route_class=TransactionalRoute, tags=["health"])


class ComponentHealth(BaseModel):
    """One component's state (and where it is, for the remote ones)."""

    status: str
    url: str | None = None


class HealthRead(BaseModel):
    """The health answer: "up" when every component is, "degraded" otherwise."""

    status: str
    components: dict[str, ComponentHealth]


@router.get("/healthz", response_model=HealthRead,
            responses={503: {"model": HealthRead, "description": "A component is down (the answer says which)"}})
async def healthz(request: Request) -> JSONResponse:
    """Reports each component; 200 when all are up, 503 otherwise."""
    settings = request.app.state.settings
    database = request.app.state.database

    def _database_ok() -> bool:
        try:
            with database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - any failure means "down"
            return False

    timeout = settings.health_timeout_seconds
    database_ok, rasa_ok, actions_ok = await asyncio.gather(
        asyncio.to_thread(_database_ok),
        request.app.state.rasa.is_healthy(timeout),
        url_is_healthy(f"{settings.action_server_url.rstrip('/')}/health", timeout),
    )
    components: dict[str, Any] = {
        "service": {"status": "up"},
        "database": {"status": "up" if database_ok else "down"},
        "rasa": {"status": "up" if rasa_ok else "down", "url": settings.rasa_url},
        "action_server": {"status": "up" if actions_ok else "down", "url": settings.action_server_url},
    }
    healthy = database_ok and rasa_ok and actions_ok
    return JSONResponse({"status": "up" if healthy else "degraded", "components": components},
                        status_code=200 if healthy else 503)
