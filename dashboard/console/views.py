"""The supervisor dashboard page: figures, charts with their tables, CSV links; the script fetches the API."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response

from dashboard.periods import Grain
from service.texts import load_texts
from staff.auth import Staff, staff_page
from staff.console import console_templates, mount_static, render_page
from staff.enums import Area

HERE = Path(__file__).resolve().parent
templates = console_templates(HERE / "templates")
router = APIRouter(tags=["console"], include_in_schema=False)
DashboardPage = Annotated[Staff, Depends(staff_page(Area.dashboard))]


@router.get("/console/dashboard")
def dashboard_page(request: Request, staff: DashboardPage, period: Grain = Grain.day) -> Response:
    """The supervisor's dashboard (the script fills it from /api/dashboard/figures)."""
    return render_page(request, templates, "dashboard.html", staff=staff, area=Area.dashboard,
                       texts=load_texts("dashboard.console"), period=period.value)


def install_console(app: FastAPI) -> None:
    """Mounts the page and its static files (/console/static/dashboard/...)."""
    app.include_router(router)
    mount_static(app, "dashboard", HERE / "static")
