"""The appointments desk page (预约管理): a day per window, search by code or mobile, check-in and no-show.

Server-rendered and usable without script (desk.js only asks before a no-show).
Forms post with the session's CSRF field; a search posts the number in the
body so it never sits in a URL; a mark comes back to the day with what was done.
"""

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from appointments import desk
from appointments.citizen_identity import is_code_shaped, normalise_code
from appointments.enums import BookingStatus
from appointments.views import DeskSearch, OfficeQuery, mark_attendance, now_of, rules_of
from service.database import SessionDep, TransactionalRoute
from service.errors import ServiceError
from service.texts import load_texts
from staff.auth import Staff, staff_page
from staff.console import console_templates, mount_static, render_page
from staff.enums import Area

HERE = Path(__file__).resolve().parent
templates = console_templates(HERE / "templates")
router = APIRouter(route_class=TransactionalRoute, prefix="/console/appointments", tags=["appointments-console"],
                   include_in_schema=False)
DeskPage = Annotated[Staff, Depends(staff_page(Area.appointments))]
ACTIONS = {"check-in": BookingStatus.checked_in, "no-show": BookingStatus.no_show}


def _desk(request: Request, db_session: SessionDep, staff: Staff, office_id: str | None, day: date | None,
          status_code: int = 200, **context: Any) -> Response:
    rules = rules_of(request)
    today = now_of(request).date()
    day = day or today
    sheet = desk.day_sheet(db_session=db_session, rules=rules, office_id=office_id, day=day)
    return render_page(request, templates, "desk.html", staff=staff, area=Area.appointments,
                       texts=load_texts("appointments.console"), status_code=status_code, sheet=sheet,
                       offices=rules.directory.offices, status_names=load_texts("appointments")["status_names"],
                       today=today, previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                       export_query=urlencode({"office_id": sheet["office_id"], "day": day.isoformat()}),
                       **context)


@router.get("")
def desk_page(request: Request, db_session: SessionDep, staff: DeskPage, office_id: OfficeQuery = None,
              day: Annotated[date | None, Query()] = None,
              done: Annotated[str | None, Query(max_length=16)] = None,
              code: Annotated[str | None, Query(max_length=16)] = None,
              error: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    """A day's bookings of an office, one table per window, with the counts per window at the top."""
    texts = load_texts("appointments.console")
    notice = None
    if done in ("checked_in", "no_show") and code and is_code_shaped(normalise_code(code)):
        notice = texts[f"done_{done}"].format(code=normalise_code(code))
    problem = texts["errors"].get(error, texts["errors"]["other"]) if error else None
    return _desk(request, db_session, staff, office_id, day, notice=notice, problem=problem)


@router.post("/search")
def desk_search(request: Request, db_session: SessionDep, staff: DeskPage,
                query: Annotated[str, Form(max_length=64)] = "",
                office_id: Annotated[str | None, Form(max_length=32)] = None,
                day: Annotated[date | None, Form()] = None) -> Response:
    """Shows the day with the bookings found by code or mobile (mobiles masked, the number never repeated)."""
    try:
        search = DeskSearch(query=query, office_id=office_id or None, day=day)
        term = desk.read_search_term(search.query)
    except (ValidationError, ServiceError):
        return _desk(request, db_session, staff, office_id or None, day, status_code=422,
                     problem=load_texts("appointments.console")["search_invalid"])
    results = desk.search(db_session=db_session, rules=rules_of(request), term=term, office_id=search.office_id,
                          day=search.day or now_of(request).date())
    return _desk(request, db_session, staff, search.office_id, search.day, results=results, searched=term.shown,
                 search_kind=term.kind)


@router.post("/{code}/{action}")
def desk_mark(code: str, action: str, db_session: SessionDep, staff: DeskPage,
              office_id: Annotated[str | None, Form(max_length=32)] = None,
              day: Annotated[date | None, Form()] = None) -> Response:
    """Handles the check-in and no-show buttons, then shows the day again with what was done (or why not)."""
    back: dict[str, str] = {"office_id": office_id or "", "day": day.isoformat() if day else ""}
    if action not in ACTIONS:
        back["error"] = "invalid_action"
    else:
        try:
            marked = mark_attendance(db_session, code[:16], ACTIONS[action])
            back.update(done=marked["status"], code=marked["code"])
        except ServiceError as refused:
            back["error"] = refused.code
    return RedirectResponse(f"/console/appointments?{urlencode({k: v for k, v in back.items() if v})}",
                            status_code=303)


def install_console(app: FastAPI) -> None:
    """Mounts the desk page and its static files."""
    app.include_router(router)
    mount_static(app, "appointments", HERE / "static")
