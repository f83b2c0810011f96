"""HTTP routes of the channels.wechat domain."""

from fastapi import APIRouter, FastAPI

router = APIRouter(tags=["wechat"])


def install(app: FastAPI) -> None:
    """Mounts the domain's routes and hooks on the app."""
    app.include_router(router)
