"""Server-rendered staff pages under /console/complaints; every value is HTML-escaped by the templates."""

from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from complaints import flows, risk
from complaints import service as complaint_service
from complaints.auth import StaffDep
from complaints.clock import ClockDep, as_utc
from complaints.enums import OPEN_STATUSES
from service.database import DatabaseDep, SessionDep, TransactionalRoute
from service.errors import ServiceError
from service.texts import text as t

console_router = APIRouter(route_class=TransactionalRoute, prefix="/console/complaints", tags=["complaints-console"], include_in_schema=False)
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                                           autoescape=True))

_STEPS = {"first-response": "first_response", "plan": "plan", "resolution": "resolution", "close": "close"}


def _local(request: Request):  # type: ignore[no-untyped-def]
    zone = ZoneInfo(str(request.app.state.settings.timezone))
    return lambda moment: as_utc(moment).astimezone(zone).strftime("%m-%d %H:%M") if moment else ""


def same_origin(request: Request) -> None:
    """Refuses form posts sent from another site (the console signs in with a cookie)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source and urlsplit(source).netloc != request.url.netloc:
        raise ServiceError("cross-site form post refused", code="forbidden", status_code=403)


@console_router.get("", response_class=HTMLResponse)
def ticket_list(request: Request, db_session: SessionDep, clock: ClockDep, staff: StaffDep) -> HTMLResponse:
    """Shows open tickets by urgency, with escalations on top."""
    settings, now = request.app.state.settings.complaints, clock()
    tickets = risk.sort_by_urgency(complaint_service.get_all(db_session=db_session, statuses=list(OPEN_STATUSES)),
                                   now, settings)
    return templates.TemplateResponse(request, "complaints_list.html", {
        "tickets": [flows.to_read(c, now, settings, with_events=False) for c in tickets],
        "escalations": risk.open_escalations(db_session=db_session), "staff": staff, "local": _local(request),
    })


@console_router.get("/hotspots", response_class=HTMLResponse)
def hotspot_page(request: Request, db_session: SessionDep, clock: ClockDep, staff: StaffDep) -> HTMLResponse:
    """Shows the hotspot report of the last four weeks."""
    now = clock()
    rows = risk.hotspots(db_session=db_session, since=now - timedelta(weeks=4), until=now,
                         timezone=str(request.app.state.settings.timezone))
    return templates.TemplateResponse(request, "complaints_hotspots.html", {"rows": rows, "staff": staff})


@console_router.get("/{number}", response_class=HTMLResponse)
def ticket_page(number: str, request: Request, db_session: SessionDep, clock: ClockDep,
                staff: StaffDep) -> HTMLResponse:
    """Shows one ticket, its history and the forms for the next steps."""
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    ticket = flows.to_read(complaint, clock(), request.app.state.settings.complaints)
    return templates.TemplateResponse(request, "complaints_detail.html",
                                      {"ticket": ticket, "staff": staff, "local": _local(request),
                                       "csrf_token": getattr(request.state, "csrf_token", None),
                                       "zh_text": lambda key: t("complaints", key)})


@console_router.post("/{number}/{step}")
async def ticket_step(number: str, step: str, request: Request, database: DatabaseDep, clock: ClockDep,
                      staff: StaffDep, text: Annotated[str, Form(max_length=4000)] = "",
                      is_public: Annotated[bool, Form()] = False) -> RedirectResponse:
    """Records a step from the ticket page's forms (a ticked box makes the note public), then returns to the page."""
    same_origin(request)
    if step == "assign":
        async with database.async_session() as db_session:
            complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
            complaint_service.assign(db_session=db_session, complaint=complaint, actor=staff.username,
                                     assignee=(text.strip() or staff.username)[:64], now=clock())
    elif step in _STEPS:
        await flows.staff_step(database=database, router=request.app.state.router, number=number,
                               step=_STEPS[step], actor=staff.username,  # type: ignore[arg-type]
                               text=text if text.strip() or step != "close" else None, now=clock(),
                               settings=request.app.state.settings.complaints, is_public=is_public)
    else:
        raise ServiceError("unknown step", code="not_found", status_code=404)
    return RedirectResponse(request.url_for("ticket_page", number=number.upper()), status_code=303)
