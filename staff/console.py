"""The console's one layout: templates that extend it, the nav a role sees, and the headers every page gets.

A domain's console pages live in that domain (``<domain>/console/``): its
templates extend ``console_base.html`` from here, and its static files are
served under ``/console/static/<domain>/``.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from service.texts import load_texts
from staff.auth import Staff
from staff.enums import Area

STAFF_DIR = Path(__file__).resolve().parent
# The nav, in order: each area's landing page.
AREA_PATHS: dict[Area, str] = {
    Area.workspace: "/console",
    Area.appointments: "/console/appointments",
    Area.complaints: "/console/complaints",
    Area.knowledge: "/console/knowledge",
    Area.dashboard: "/console/dashboard",
}
PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def console_templates(directory: Path | None = None) -> Jinja2Templates:
    """Templates of a domain's console pages, able to extend the shared layout."""
    loaders = [FileSystemLoader(str(directory))] if directory else []
    environment = Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(str(STAFF_DIR / "templates"))]),
                              autoescape=select_autoescape(("html",)))
    return Jinja2Templates(env=environment)


def nav_for(staff: Staff | None) -> list[dict[str, str]]:
    """The nav entries a member of staff may follow, labelled from the staff texts."""
    if staff is None:
        return []
    labels = load_texts("staff")
    return [{"area": area.value, "href": href, "label": labels[f"nav_{area.value}"]}
            for area, href in AREA_PATHS.items() if staff.may(area)]


def add_page_script(app: FastAPI, url: str, area: Area) -> None:
    """Adds a script to every console page of members who may use an area (e.g. the overdue-complaint alert)."""
    if not hasattr(app.state, "console_page_scripts"):
        app.state.console_page_scripts = []
    app.state.console_page_scripts.append((url, area))


def page_scripts(request: Request, staff: Staff | None) -> list[str]:
    """The page-wide scripts this member of staff gets."""
    if staff is None:
        return []
    return [url for url, area in getattr(request.app.state, "console_page_scripts", []) if staff.may(area)]


def render_page(request: Request, templates: Jinja2Templates, name: str, *, staff: Staff | None,
                area: Area | None = None, texts: dict[str, Any] | None = None, status_code: int = 200,
                **context: Any) -> HTMLResponse:
    """Renders a console page in the shared layout, with the page headers (CSP, no caching)."""
    merged = {**load_texts("staff"), **(texts or {})}
    response = templates.TemplateResponse(
        request, name, {"texts": merged, "staff": staff, "area": area.value if area else None,
                        "nav": nav_for(staff), "csrf_token": staff.csrf_token if staff else "",
                        "page_scripts": page_scripts(request, staff), **context},
        status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    return response


def mount_static(app: FastAPI, domain: str, directory: Path) -> None:
    """Serves a domain's console scripts and styles under /console/static/<domain>/."""
    app.mount(f"/console/static/{domain}", StaticFiles(directory=str(directory)), name=f"console-static-{domain}")
