"""HTTP routes of the appointments domain: the bot's internal API, the staff API and the staff page."""

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from appointments import service
from appointments.citizen_identity import (
    id_number_problem,
    mobile_problem,
    normalise_code,
    normalise_mobile,
)
from appointments.dateparse import ParsedWhen, is_past, parse_when
from appointments.enums import BookingStatus, WhenProblem
from appointments.models import (
    AvailabilityQuery,
    BookingCreate,
    BookingRead,
    BookingReschedule,
    CodeCheck,
)
from appointments.schedule import AppointmentRules
from appointments.understanding import understand
from appointments.staff_auth import StaffDep, check_staff_csrf
from service.attempts import LookupGuard, attempts_for, client_address
from service.database import DatabaseDep, SessionDep, TransactionalRoute
from service.errors import NotFoundError, ServiceError
from service.internal import InternalAuth
from service.openapi import error_responses
from service.pii import mask_mobile
from service.texts import load_texts

internal = APIRouter(route_class=TransactionalRoute, prefix="/internal/appointments", tags=["appointments"],
                    dependencies=[InternalAuth], responses=error_responses(401, 422))
# Staff sign in through the console (cookie; changes need its CSRF token: 403) or present the internal token.
staff = APIRouter(route_class=TransactionalRoute, prefix="/api/appointments", tags=["appointments"],
                  responses=error_responses(401, 422))
console = APIRouter(route_class=TransactionalRoute, prefix="/console/appointments", tags=["appointments"],
                    responses=error_responses(401, 404, 422))
# A booking refused for a reason the citizen is told (400: not bookable, closed day, past or too far ahead)
# or because the slot is full or the citizen already holds one (409).
BOOKING_REFUSED = error_responses(400, 409)
# A look-up by code and digits: wrong code or digits (404), too many failures (429).
CODE_LOOKUP = error_responses(404, 429)
templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(default=True, default_for_string=True))


def rules_of(request: Request) -> AppointmentRules:
    """The app's booking rules."""
    rules: AppointmentRules = request.app.state.appointment_rules
    return rules


def now_of(request: Request) -> datetime:
    """The service centre's local time (tests may set another clock)."""
    clock = request.app.state.appointment_clock
    return clock()


class WhenQuery(BaseModel):
    """A citizen's words about a date and time."""

    text: str = Field(min_length=1, max_length=100)


class UnderstandQuery(BaseModel):
    """A citizen's message during the booking form, and the question it answers."""

    text: str = Field(min_length=1, max_length=1000)
    asked: Literal["service", "day", "start", "name", "mobile", "id_number", "confirmed"] | None = None
    # The day already chosen: a time alone ("改成十点") is on that day.
    day: date | None = None
    # The time already chosen: "晚半个小时" moves from it.
    start: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class ContactCheck(BaseModel):
    """A mobile and/or ID number to check before booking."""

    mobile: str | None = Field(default=None, max_length=32)
    id_number: str | None = Field(default=None, max_length=32)


class ServiceQuery(BaseModel):
    """Words naming a service (id, name or alias)."""

    text: str = Field(min_length=1, max_length=64)


@internal.get("/services")
def list_services(request: Request) -> list[dict[str, str]]:
    """Lists the bookable services with their names."""
    rules = rules_of(request)
    return [{"id": sid, "name": rules.catalogue.name(sid)} for sid in rules.directory.bookable_services()]


@internal.post("/services/resolve")
def resolve_service(query: ServiceQuery, request: Request) -> dict[str, Any]:
    """Finds the bookable service an id, name or alias means."""
    rules = rules_of(request)
    service_id = rules.catalogue.resolve(query.text) or query.text.strip()
    bookable = rules.directory.office_for(service_id) is not None
    return {"service_id": service_id if bookable else None,
            "service_name": rules.catalogue.name(service_id) if bookable else None}


@internal.post("/when")
def understand_when(query: WhenQuery, request: Request) -> dict[str, Any]:
    """Parses a Chinese date/time expression relative to now."""
    now = now_of(request)
    parsed = parse_when(query.text, now)
    day_given = parsed.day is not None
    if parsed.ok and parsed.day is None:
        # A time alone ("下午3点半") means today.
        problem_now = WhenProblem.past if is_past(now.date(), parsed.at, parsed.part, now) else None
        parsed = ParsedWhen(day=now.date(), at=parsed.at, part=parsed.part, problem=problem_now)
    problem = parsed.problem.value if parsed.problem else None
    return {"day": parsed.day, "day_given": day_given, "start": parsed.at.strftime("%H:%M") if parsed.at else None,
            "part": parsed.part, "problem": problem,
            "message": load_texts("appointments")["when_problems"][problem] if problem else None}


@internal.post("/understand")
def understand_message(query: UnderstandQuery, request: Request) -> dict[str, Any]:
    """Finds every booking detail in a message: service, date and time, name, mobile, ID number, a correction."""
    texts = load_texts("appointments")
    return understand(query.text, asked=query.asked, rules=rules_of(request), now=now_of(request),
                      when_messages=texts["when_problems"], known_day=query.day,
                      known_start=query.start).as_dict()


@internal.post("/contact/check")
def check_contact(query: ContactCheck) -> dict[str, Any]:
    """Checks a mobile number and an ID number, with the reason when one is wrong."""
    texts = load_texts("appointments")
    answer: dict[str, Any] = {}
    if query.mobile is not None:
        problem = mobile_problem(query.mobile)
        answer["mobile"] = None if problem else normalise_mobile(query.mobile)
        answer["mobile_problem"] = problem
        answer["mobile_message"] = texts["mobile_reasons"][problem] if problem else None
    if query.id_number is not None:
        problem = id_number_problem(query.id_number)
        answer["id_number_ok"] = problem is None
        answer["id_number_problem"] = problem
        answer["id_number_message"] = texts["id_number_reasons"][problem] if problem else None
    return answer


@internal.post("/availability", responses=error_responses(400))
def get_availability(query: AvailabilityQuery, request: Request, db_session: SessionDep) -> dict[str, Any]:
    """Tells whether a day/time is bookable, why not, and the nearest free slots."""
    return service.availability(db_session=db_session, rules=rules_of(request), service_id=query.service_id,
                                day=query.day, start=query.start, part=query.part, now=now_of(request))


@internal.post("/bookings", status_code=201, responses=BOOKING_REFUSED)
def create_booking(data: BookingCreate, request: Request, db_session: SessionDep) -> BookingRead:
    """Books a slot (a retry with the same idempotency key returns the same booking)."""
    rules = rules_of(request)
    booking = service.book_slot(db_session=db_session, rules=rules, data=data, now=now_of(request))
    return service.to_read(rules, booking)


def _check_code(request: Request, database: DatabaseDep, check: CodeCheck) -> None:
    """Refuses wrong digits (404) and guessing past the limits (429) before the request's own transaction starts.

    Runs in a short transaction of its own that commits the counted failure
    even though the request then fails.
    """
    requester = check.requester or f"addr:{client_address(request)}"
    with database.session() as db_session:
        guard = LookupGuard(attempts_for(request.app, db_session), scope="booking",
                            limits=request.app.state.settings.attempts.lookups)
        refusal = service.verify_code(db_session=db_session, guard=guard, code=check.code,
                                      mobile_last4=check.mobile_last4, requester=requester)
    if refusal is not None:
        raise refusal


@internal.post("/bookings/lookup", responses=CODE_LOOKUP)
def lookup_booking(check: CodeCheck, request: Request, database: DatabaseDep, db_session: SessionDep) -> BookingRead:
    """Finds a booking by code and the mobile's last 4 digits."""
    _check_code(request, database, check)
    booking = service.get_by_code(db_session=db_session, code=check.code, mobile_last4=check.mobile_last4)
    return service.to_read(rules_of(request), booking)


@internal.post("/bookings/cancel", responses={**CODE_LOOKUP, **error_responses(409)})
def cancel(check: CodeCheck, request: Request, database: DatabaseDep, db_session: SessionDep) -> BookingRead:
    """Cancels a booking and frees its place."""
    _check_code(request, database, check)
    booking = service.get_by_code(db_session=db_session, code=check.code, mobile_last4=check.mobile_last4,
                                  lock=True)
    return service.to_read(rules_of(request), service.cancel_booking(db_session=db_session, booking=booking))


@internal.post("/bookings/reschedule", responses={**CODE_LOOKUP, **BOOKING_REFUSED})
def reschedule(change: BookingReschedule, request: Request, database: DatabaseDep,
               db_session: SessionDep) -> BookingRead:
    """Moves a booking to another slot, keeping its code."""
    _check_code(request, database, change)
    rules = rules_of(request)
    booking = service.get_by_code(db_session=db_session, code=change.code, mobile_last4=change.mobile_last4,
                                  lock=True)
    moved = service.reschedule_booking(db_session=db_session, rules=rules, booking=booking, day=change.day,
                                       start=change.start, now=now_of(request))
    return service.to_read(rules, moved)


def _office_id(rules: AppointmentRules, office_id: str | None) -> str:
    if office_id is None:
        return rules.directory.offices[0].id
    if not any(office.id == office_id for office in rules.directory.offices):
        raise NotFoundError("unknown office", code="office_not_found", details={"office_id": office_id})
    return office_id


def day_sheet(request: Request, db_session: SessionDep, office_id: str | None, day: date | None) -> dict:
    """A day's bookings of an office grouped per window, as staff see them."""
    rules = rules_of(request)
    office_id = _office_id(rules, office_id)
    day = day or now_of(request).date()
    office = next(o for o in rules.directory.offices if o.id == office_id)
    rows = service.get_day_bookings(db_session=db_session, office_id=office_id, day=day)
    windows = []
    for window in office.windows:
        bookings = [{"code": b.code, "start": b.start.strftime("%H:%M"),
                     "end": rules.slot_end(b.start).strftime("%H:%M"), "service_id": b.service_id,
                     "service_name": rules.catalogue.name(b.service_id), "name": b.name,
                     "mobile_masked": mask_mobile(b.mobile), "status": b.status}
                    for b in rows if b.window_id == window.id]
        windows.append({"window_id": window.id, "window_name": window.name, "bookings": bookings})
    return {"office_id": office_id, "office_name": office.name, "day": day, "windows": windows}


DayQuery = Annotated[date | None, Query()]
OfficeQuery = Annotated[str | None, Query(max_length=32)]


@staff.get("/day", responses=error_responses(404))
def get_day(request: Request, db_session: SessionDep, _staff: StaffDep, office_id: OfficeQuery = None,
            day: DayQuery = None) -> dict:
    """Lists a day's bookings per window."""
    return day_sheet(request, db_session, office_id, day)


def _mark(request: Request, db_session: SessionDep, code: str, status: BookingStatus,
          csrf_token: str | None) -> dict:
    check_staff_csrf(request, csrf_token)
    code = normalise_code(code)
    booking = service.set_attendance(db_session=db_session, code=code, status=status)
    return {"code": booking.code, "status": booking.status}


@staff.post("/bookings/{code}/check-in", responses=error_responses(403, 404, 409))
def check_in(code: Annotated[str, Field(max_length=16)], request: Request, db_session: SessionDep,
             _staff: StaffDep) -> dict:
    """Marks a citizen as arrived."""
    return _mark(request, db_session, code, BookingStatus.checked_in, None)


@staff.post("/bookings/{code}/no-show", responses=error_responses(403, 404, 409))
def no_show(code: Annotated[str, Field(max_length=16)], request: Request, db_session: SessionDep,
            _staff: StaffDep) -> dict:
    """Marks a booking as not attended."""
    return _mark(request, db_session, code, BookingStatus.no_show, None)


def _cell(value: Any) -> str:
    # Spreadsheets run cells starting with = + - @ as formulas.
    cell = str(value)
    return f"'{cell}" if cell[:1] in {"=", "+", "-", "@", "\t", "\r"} else cell


@staff.get("/export.csv", response_class=Response, responses={
    200: {"description": "The day's bookings as CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
    **error_responses(404)})
def export_csv(request: Request, db_session: SessionDep, _staff: StaffDep, office_id: OfficeQuery = None,
               day: DayQuery = None) -> Response:
    """Exports a day's bookings as CSV (UTF-8 with BOM so spreadsheets read the Chinese)."""
    sheet = day_sheet(request, db_session, office_id, day)
    texts = load_texts("appointments")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(texts["csv_header"])
    for window in sheet["windows"]:
        for row in window["bookings"]:
            writer.writerow([_cell(v) for v in (
                sheet["day"].isoformat(), f"{row['start']}-{row['end']}", window["window_name"],
                row["service_name"], row["name"], row["mobile_masked"], row["code"],
                texts["status_names"][row["status"]])])
    filename = f"appointments-{sheet['office_id']}-{sheet['day'].isoformat()}.csv"
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@console.get("", response_class=HTMLResponse)
def console_page(request: Request, db_session: SessionDep, _staff: StaffDep, office_id: OfficeQuery = None,
                 day: DayQuery = None) -> HTMLResponse:
    """The staff page: a day's bookings per window with check-in and no-show buttons."""
    sheet = day_sheet(request, db_session, office_id, day)
    texts = load_texts("appointments")
    html = templates.get_template("console_day.html").render(
        sheet=sheet, t=texts["console"], status_names=texts["status_names"],
        offices=rules_of(request).directory.offices, csrf_token=getattr(request.state, "csrf_token", "") or "")
    return HTMLResponse(html)


@console.post("/{code}/{action}", status_code=303, response_class=RedirectResponse, responses={
    303: {"description": "Marked; back to the day's page"}, **error_responses(400, 403, 409)})
def console_mark(code: str, action: str, request: Request, db_session: SessionDep, _staff: StaffDep,
                 csrf_token: Annotated[str | None, Form(max_length=200)] = None,
                 office_id: Annotated[str | None, Form(max_length=32)] = None,
                 day: Annotated[date | None, Form()] = None) -> RedirectResponse:
    """Handles the page's check-in and no-show buttons, then shows the day again."""
    statuses = {"check-in": BookingStatus.checked_in, "no-show": BookingStatus.no_show}
    if action not in statuses or len(code) > 16:
        raise ServiceError("unknown action", code="invalid_request")
    _mark(request, db_session, code, statuses[action], csrf_token if csrf_token is not None else "")
    query = f"?office_id={office_id or ''}&day={day.isoformat() if day else ''}"
    return RedirectResponse(f"/console/appointments{query}", status_code=303)


def install(app: FastAPI) -> None:
    """Mounts the domain's routes and loads its rules from the settings' files."""
    rules = AppointmentRules.from_settings(app.state.settings.appointments, app.state.settings.timezone)
    app.state.appointment_rules = rules
    frozen = app.state.settings.appointments.frozen_clock
    if frozen is not None and frozen.tzinfo is not None:
        # The booking clock is the centre's local wall-clock time, without tzinfo.
        frozen = frozen.astimezone(ZoneInfo(app.state.settings.timezone)).replace(tzinfo=None)
    app.state.appointment_clock = (lambda: frozen) if frozen is not None else rules.now
    app.include_router(internal)
    app.include_router(staff)
    app.include_router(console)
