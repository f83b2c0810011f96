"""HTTP routes of the appointments domain: the bot's internal API and the staff desk's API (pages: console/)."""

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from appointments import desk, service
from appointments.citizen_identity import (
    id_number_problem,
    mobile_problem,
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
from service.attempts import LookupGuard, attempts_for, client_address
from service.database import DatabaseDep, SessionDep, TransactionalRoute
from service.internal import InternalAuth
from service.openapi import error_responses
from service.texts import load_texts
from staff.auth import Staff, staff_api
from staff.enums import Area

internal = APIRouter(route_class=TransactionalRoute, prefix="/internal/appointments", tags=["appointments"],
                    dependencies=[InternalAuth], responses=error_responses(401, 422))
# Staff sign in through the console (cookie; changes need its CSRF token, other roles get 403) or present the
# internal token (scripts, acting as a supervisor).
StaffDep = Annotated[Staff, Depends(staff_api(Area.appointments, internal=True))]
staff = APIRouter(route_class=TransactionalRoute, prefix="/api/appointments", tags=["appointments"],
                  responses=error_responses(401, 403, 422))
# A booking refused for a reason the citizen is told (400: not bookable, closed day, past or too far ahead)
# or because the slot is full or the citizen already holds one (409).
BOOKING_REFUSED = error_responses(400, 409)
# A look-up by code and digits: wrong code or digits (404), too many failures (429).
CODE_LOOKUP = error_responses(404, 429)


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


DayQuery = Annotated[date | None, Query()]
OfficeQuery = Annotated[str | None, Query(max_length=32)]
BookingCode = Annotated[str, PathParam(max_length=16)]


class DeskSearch(BaseModel):
    """What staff type to find a booking: its code, or the citizen's mobile or its last 4 digits.

    Sent in the body, not the URL, so a mobile stays out of access logs and browser history.
    """

    query: str = Field(min_length=1, max_length=32)
    office_id: str | None = Field(default=None, max_length=32)
    day: date | None = None


@staff.get("/day", responses=error_responses(404))
def get_day(request: Request, db_session: SessionDep, _staff: StaffDep, office_id: OfficeQuery = None,
            day: DayQuery = None) -> dict:
    """Lists a day's bookings per window, with the counts per status per window."""
    return desk.day_sheet(db_session=db_session, rules=rules_of(request), office_id=office_id,
                          day=day or now_of(request).date())


@staff.post("/search", responses=error_responses(404))
def search(body: DeskSearch, request: Request, db_session: SessionDep, _staff: StaffDep) -> dict:
    """Finds bookings by code (any day) or by mobile / its last 4 digits (the day, in the office); mobiles masked."""
    term = desk.read_search_term(body.query)
    results = desk.search(db_session=db_session, rules=rules_of(request), term=term, office_id=body.office_id,
                          day=body.day or now_of(request).date())
    return {"kind": term.kind, "query": term.shown, "bookings": results}


def mark_attendance(db_session: SessionDep, code: str, status: BookingStatus) -> dict:
    """Marks a booking checked in or no-show by its code (422 malformed, 404 unknown, 409 no longer booked)."""
    booking = service.set_attendance(db_session=db_session, code=desk.parse_code(code), status=status)
    return {"code": booking.code, "status": booking.status}


@staff.post("/bookings/{code}/check-in", responses=error_responses(404, 409))
def check_in(code: BookingCode, db_session: SessionDep, _staff: StaffDep) -> dict:
    """Marks a citizen as arrived."""
    return mark_attendance(db_session, code, BookingStatus.checked_in)


@staff.post("/bookings/{code}/no-show", responses=error_responses(404, 409))
def no_show(code: BookingCode, db_session: SessionDep, _staff: StaffDep) -> dict:
    """Marks a booking as not attended."""
    return mark_attendance(db_session, code, BookingStatus.no_show)


@staff.get("/export.csv", response_class=Response, responses={
    200: {"description": "The day's bookings as CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
    **error_responses(404)})
def export_csv(request: Request, db_session: SessionDep, _staff: StaffDep, office_id: OfficeQuery = None,
               day: DayQuery = None) -> Response:
    """Exports a day's bookings as CSV (UTF-8 with BOM so spreadsheets read the Chinese; mobiles masked)."""
    sheet = desk.day_sheet(db_session=db_session, rules=rules_of(request), office_id=office_id,
                           day=day or now_of(request).date())
    buffer = io.StringIO()
    csv.writer(buffer).writerows(desk.csv_rows(sheet))
    filename = f"appointments-{sheet['office_id']}-{sheet['day'].isoformat()}.csv"
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


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
    from appointments.console.views import install_console

    install_console(app)
