"""HTTP routes of the complaints domain: the actions' internal API and the staff API."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request

from complaints import flows, risk
from complaints import service as complaint_service
from complaints.auth import StaffDep
from complaints.categories import category_label, infer_category
from complaints.clock import ClockDep, as_utc, system_clock
from complaints.enums import ComplaintCategory, ComplaintStatus, Urgency
from complaints.models import (
    AssignIn,
    CitizenInfoIn,
    CitizenStatusRead,
    CitizenVerification,
    ClassifyIn,
    ComplaintCreate,
    ComplaintEscalation,
    ComplaintRead,
    FiledRead,
    StaffText,
    UnderstandIn,
    WithdrawIn,
)
from complaints.settings import ComplaintSettings
from complaints.understanding import understand
from service.database import DatabaseDep, SessionDep, TransactionalRoute
from service.errors import ServiceError
from service.internal import InternalAuth
from service.openapi import error_responses

internal_router = APIRouter(route_class=TransactionalRoute, prefix="/internal/complaints", tags=["complaints-internal"],
                             dependencies=[InternalAuth], responses=error_responses(401, 422))
# Staff sign in through the console (cookie, CSRF token on changes: 403) or present the internal token.
staff_router = APIRouter(route_class=TransactionalRoute, prefix="/api/complaints", tags=["complaints"],
                         responses=error_responses(401, 422))
# Row ids are SQL integers; anything past 32 bits cannot exist.
EscalationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# Answers of a citizen's look-up: wrong number or digits (404), too many failures (429).
CITIZEN_LOOKUP = error_responses(404, 429)
# Answers of a staff step on a ticket: CSRF (403), unknown number (404), not in the right state (409).
STAFF_STEP = error_responses(403, 404, 409)


def domain_settings(request: Request) -> ComplaintSettings:
    """Returns the complaints settings of the running app."""
    settings: ComplaintSettings = request.app.state.settings.complaints
    return settings


def timezone_of(request: Request) -> str:
    """Returns the service centre's time zone."""
    return str(request.app.state.settings.timezone)


@internal_router.post("/classify")
def classify(payload: ClassifyIn) -> dict[str, Any]:
    """Infers a category from the citizen's words."""
    guess = infer_category(payload.text)
    return {"category": guess.category, "label": category_label(guess.category), "score": guess.score,
            "matched": list(guess.matched)}


@internal_router.post("/understand")
def understand_message(payload: UnderstandIn, request: Request) -> dict[str, Any]:
    """Finds every complaint detail in a message: what happened, where and when, contact or anonymity, category."""
    settings = domain_settings(request)
    return understand(payload.text, asked=payload.asked, min_chars=settings.description_min_chars,
                      max_chars=settings.description_max_chars, known_description=payload.known_description,
                      known_location=payload.known_location).as_dict()


@internal_router.get("/categories")
def categories() -> list[dict[str, str]]:
    """Lists category ids with their Chinese labels."""
    return [{"category": c.value, "label": category_label(c)} for c in ComplaintCategory]


@internal_router.post("", status_code=201)
async def file_from_chat(payload: ComplaintCreate, request: Request, database: DatabaseDep,
                         clock: ClockDep) -> FiledRead:
    """Files a complaint collected by the chat form."""
    settings, now = domain_settings(request), clock()
    async with database.async_session() as db_session:
        complaint, filed = flows.file_complaint(db_session=db_session, complaint_in=payload, now=now,
                                                settings=settings, timezone=timezone_of(request))
        escalated = complaint.escalated
    if escalated:
        request.app.state.hub.publish("complaints", {"type": "escalation", "number": filed.number})
    return filed


@internal_router.post("/lookup", responses=CITIZEN_LOOKUP)
def lookup(payload: CitizenVerification, request: Request, database: DatabaseDep, clock: ClockDep) -> CitizenStatusRead:
    """Returns a ticket's status to a citizen who knows its number and four digits."""
    status: CitizenStatusRead = flows.with_verified_ticket(
        database=database, request=payload, now=clock(), settings=domain_settings(request),
        limits=request.app.state.settings.attempts.lookups,
        action=lambda _db, complaint: flows.citizen_status(complaint))
    return status


@internal_router.post("/info", responses={**CITIZEN_LOOKUP, **error_responses(409)})
def add_info(payload: CitizenInfoIn, request: Request, database: DatabaseDep, clock: ClockDep) -> CitizenStatusRead:
    """Adds the citizen's further information to their open ticket."""
    settings, now = domain_settings(request), clock()
    text = complaint_service.check_text(payload.text, field="text", min_chars=1,
                                        max_chars=settings.description_max_chars)

    def add(db_session: Any, complaint: Any) -> CitizenStatusRead:
        complaint_service.add_citizen_info(db_session=db_session, complaint=complaint, text=text, now=now)
        return flows.citizen_status(complaint)

    status: CitizenStatusRead = flows.with_verified_ticket(database=database, request=payload, now=now,
                                                           settings=settings, action=add,
                                                           limits=request.app.state.settings.attempts.lookups)
    return status


@internal_router.post("/withdraw", responses={**CITIZEN_LOOKUP, **error_responses(409)})
def withdraw(payload: WithdrawIn, request: Request, database: DatabaseDep, clock: ClockDep) -> CitizenStatusRead:
    """Withdraws the citizen's open ticket."""
    now = clock()

    def take_back(db_session: Any, complaint: Any) -> CitizenStatusRead:
        complaint_service.withdraw(db_session=db_session, complaint=complaint, reason=payload.reason, now=now)
        return flows.citizen_status(complaint)

    status: CitizenStatusRead = flows.with_verified_ticket(database=database, request=payload, now=now,
                                                           settings=domain_settings(request), action=take_back,
                                                           limits=request.app.state.settings.attempts.lookups)
    return status


@staff_router.get("")
def list_complaints(
    request: Request, db_session: SessionDep, clock: ClockDep, staff: StaffDep,
    status: Annotated[list[ComplaintStatus] | None, Query()] = None,
    urgency: Annotated[Urgency | None, Query()] = None,
) -> list[ComplaintRead]:
    """Lists tickets by urgency: overdue first, then due within the warning window."""
    settings, now = domain_settings(request), clock()
    statuses = status or [ComplaintStatus.submitted, ComplaintStatus.acknowledged, ComplaintStatus.plan_given]
    tickets = risk.sort_by_urgency(complaint_service.get_all(db_session=db_session, statuses=statuses), now, settings)
    reads = [flows.to_read(c, now, settings, with_events=False) for c in tickets]
    return [r for r in reads if urgency is None or r.urgency == urgency]


@staff_router.get("/reports/hotspots")
def hotspot_report(request: Request, db_session: SessionDep, clock: ClockDep, staff: StaffDep,
                   weeks: Annotated[int, Query(ge=1, le=52)] = 4) -> list[dict[str, Any]]:
    """Counts tickets by category, window and ISO week over recent weeks."""
    now = as_utc(clock())
    return risk.hotspots(db_session=db_session, since=now - timedelta(weeks=weeks), until=now,
                         timezone=timezone_of(request))


@staff_router.get("/escalations")
def escalations(db_session: SessionDep, staff: StaffDep) -> list[dict[str, Any]]:
    """Lists escalations waiting for a supervisor."""
    return [{"id": e.id, "number": c.number, "reason": e.reason, "related_numbers": e.related_numbers,
             "created_at": as_utc(e.created_at).isoformat()} for e, c in risk.open_escalations(db_session=db_session)]


@staff_router.post("/escalations/{escalation_id}/acknowledge", responses=error_responses(403, 404))
def acknowledge_escalation(escalation_id: EscalationId, db_session: SessionDep, clock: ClockDep,
                           staff: StaffDep) -> dict[str, Any]:
    """Marks an escalation as seen by a supervisor."""
    if not staff.is_supervisor:
        raise ServiceError("only a supervisor can acknowledge escalations", code="forbidden", status_code=403)
    escalation = db_session.get(ComplaintEscalation, escalation_id)
    if escalation is None:
        raise ServiceError("no such escalation", code="not_found", status_code=404)
    escalation.acknowledged_by, escalation.acknowledged_at = staff.username, clock()
    return {"id": escalation.id, "acknowledged_by": staff.username}


@staff_router.get("/{number}", responses=error_responses(404))
def get_complaint(number: str, request: Request, db_session: SessionDep, clock: ClockDep,
                  staff: StaffDep) -> ComplaintRead:
    """Returns a ticket with its full history."""
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    return flows.to_read(complaint, clock(), domain_settings(request))


@staff_router.post("/{number}/assign", responses=STAFF_STEP)
def assign(number: str, payload: AssignIn, request: Request, db_session: SessionDep, clock: ClockDep,
           staff: StaffDep) -> ComplaintRead:
    """Gives a ticket to a member of staff."""
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    complaint_service.assign(db_session=db_session, complaint=complaint, actor=staff.username,
                             assignee=payload.assignee.strip(), now=clock())
    return flows.to_read(complaint, clock(), domain_settings(request))


async def _step(step: flows.StaffStep, number: str, payload: StaffText, request: Request, database: Any,
                clock: Any, staff: Any) -> ComplaintRead:
    return await flows.staff_step(database=database, router=request.app.state.router, number=number, step=step,
                                  actor=staff.username, text=payload.text, now=clock(),
                                  settings=domain_settings(request), is_public=payload.is_public)


@staff_router.post("/{number}/first-response", responses=STAFF_STEP)
async def first_response(number: str, payload: StaffText, request: Request, database: DatabaseDep, clock: ClockDep,
                         staff: StaffDep) -> ComplaintRead:
    """Records the first response; the citizen sees it in their chat and on lookup (publicly, masked, if is_public)."""
    return await _step("first_response", number, payload, request, database, clock, staff)


@staff_router.post("/{number}/plan", responses=STAFF_STEP)
async def plan(number: str, payload: StaffText, request: Request, database: DatabaseDep, clock: ClockDep,
               staff: StaffDep) -> ComplaintRead:
    """Records the resolution plan."""
    return await _step("plan", number, payload, request, database, clock, staff)


@staff_router.post("/{number}/resolution", responses=STAFF_STEP)
async def resolution(number: str, payload: StaffText, request: Request, database: DatabaseDep, clock: ClockDep,
                     staff: StaffDep) -> ComplaintRead:
    """Records how the complaint was resolved."""
    return await _step("resolution", number, payload, request, database, clock, staff)


@staff_router.post("/{number}/close", responses=STAFF_STEP)
async def close(number: str, payload: StaffText, request: Request, database: DatabaseDep, clock: ClockDep,
                staff: StaffDep) -> ComplaintRead:
    """Closes a resolved ticket."""
    return await _step("close", number, payload, request, database, clock, staff)


def install(app: FastAPI) -> None:
    """Mounts the domain's routes and its clock on the app."""
    from complaints.console import console_router
    from complaints.open311 import open311_router

    if not hasattr(app.state, "complaint_clock"):
        app.state.complaint_clock = system_clock
    app.include_router(internal_router)
    app.include_router(staff_router)
    app.include_router(console_router)
    app.include_router(open311_router)
