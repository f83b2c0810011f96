"""HTTP routes of the faq domain."""

from fastapi import APIRouter, FastAPI

router = APIRouter(tags=["faq"])


def install(app: FastAPI) -> None:
    """Mounts the domain's routes and hooks on the app."""
    app.include_router(router)
