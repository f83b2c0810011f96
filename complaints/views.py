"""HTTP routes of the complaints domain."""

from fastapi import APIRouter, FastAPI

router = APIRouter(tags=["complaints"])


def install(app: FastAPI) -> None:
    """Mounts the domain's routes and hooks on the app."""
    app.include_router(router)
