"""HTTP routes of the complaints domain: the actions' internal API and the staff API."""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request

from complaints import flows, follow_ups, overdue, risk
from complaints import service as complaint_service
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
    ComplaintRead,
    FiledRead,
    FollowUpIn,
    FollowUpRead,
    NoteIn,
    StaffText,
    UnderstandIn,
    WithdrawIn,
)
from complaints.settings import ComplaintSettings
from complaints.understanding import understand
from service.background import run_with_app
from service.database import DatabaseDep, SessionDep, TransactionalRoute
from service.errors import ServiceError
from service.internal import InternalAuth
from service.openapi import error_responses
from staff.auth import Staff, staff_api
from staff.enums import Area

internal_router = APIRouter(route_class=TransactionalRoute, prefix="/internal/complaints", tags=["complaints-internal"],
                             dependencies=[InternalAuth], responses=error_responses(401, 422))
# Staff sign in through the console (cookie, CSRF token on changes: 403; other roles: 403) or present the
# internal token (acting as a supervisor named by X-Staff-Name).
StaffDep = Annotated[Staff, Depends(staff_api(Area.complaints, internal=True))]
staff_router = APIRouter(route_class=TransactionalRoute, prefix="/api/complaints", tags=["complaints"],
                         responses=error_responses(401, 403, 422))
TicketNumber = Annotated[str, Path(max_length=40)]
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
    require_supervisor(staff)
    escalation = risk.acknowledge_escalation(db_session=db_session, escalation_id=escalation_id,
                                             actor=staff.username, now=clock())
    return {"id": escalation.id, "acknowledged_by": staff.username}


def require_supervisor(staff: Staff) -> None:
    """Refuses (403) what only a supervisor may do, e.g. acknowledging an escalation."""
    if not staff.is_supervisor:
        raise ServiceError("only a supervisor can acknowledge escalations", code="forbidden", status_code=403)


@staff_router.get("/follow-ups")
def pending_follow_ups(request: Request, db_session: SessionDep, clock: ClockDep, staff: StaffDep,
                       due_only: bool = False) -> list[FollowUpRead]:
    """Lists the follow-up calls (回访) still to be made, soonest due first."""
    now = clock()
    reads = [follow_ups.to_read(f, c, now) for f, c in follow_ups.get_all_pending(db_session=db_session)]
    return [r for r in reads if r.is_due or not due_only]


@staff_router.get("/{number}", responses=error_responses(404))
def get_complaint(number: TicketNumber, request: Request, db_session: SessionDep, clock: ClockDep,
                  staff: StaffDep) -> ComplaintRead:
    """Returns a ticket with its full history."""
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    return flows.to_read(complaint, clock(), domain_settings(request))


@staff_router.post("/{number}/assign", responses=STAFF_STEP)
def assign(number: TicketNumber, payload: AssignIn, request: Request, db_session: SessionDep, clock: ClockDep,
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
async def first_response(number: TicketNumber, payload: StaffText, request: Request, database: DatabaseDep, clock: ClockDep,
                         staff: StaffDep) -> ComplaintRead:
    """Records the first response; the citizen sees it in their chat and on lookup (publicly, masked, if is_public)."""
    return await _step("first_response", number, payload, request, database, clock, staff)


@staff_router.post("/{number}/plan", responses=STAFF_STEP)
async def plan(number: TicketNumber, payload: StaffText, request: Request, database: DatabaseDep, clock: ClockDep,
               staff: StaffDep) -> ComplaintRead:
    """Records the resolution plan."""
    return await _step("plan", number, payload, request, database, clock, staff)


@staff_router.post("/{number}/resolution", responses=STAFF_STEP)
async def resolution(number: TicketNumber, payload: StaffText, request: Request, database: DatabaseDep, clock: ClockDep,
                     staff: StaffDep) -> ComplaintRead:
    """Records how the complaint was resolved."""
    return await _step("resolution", number, payload, request, database, clock, staff)


@staff_router.post("/{number}/close", responses=STAFF_STEP)
async def close(number: TicketNumber, payload: StaffText, request: Request, database: DatabaseDep, clock: ClockDep,
                staff: StaffDep) -> ComplaintRead:
    """Closes a resolved ticket."""
    return await _step("close", number, payload, request, database, clock, staff)


@staff_router.post("/{number}/notes", responses=STAFF_STEP)
def add_note(number: TicketNumber, payload: NoteIn, request: Request, db_session: SessionDep, clock: ClockDep,
             staff: StaffDep) -> ComplaintRead:
    """Adds an internal note to a ticket's history (never shown to the citizen)."""
    settings = domain_settings(request)
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    text = complaint_service.check_text(payload.text, field="text", min_chars=1,
                                        max_chars=settings.staff_text_max_chars)
    complaint_service.add_note(db_session=db_session, complaint=complaint, actor=staff.username, text=text,
                               now=clock())
    return flows.to_read(complaint, clock(), settings)


@staff_router.post("/{number}/follow-up", responses=STAFF_STEP)
def record_follow_up(number: TicketNumber, payload: FollowUpIn, request: Request, db_session: SessionDep,
                     clock: ClockDep, staff: StaffDep) -> ComplaintRead:
    """Records what the follow-up call found; not satisfied (with a note) reopens the ticket for a supervisor."""
    settings = domain_settings(request)
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    follow_ups.record_outcome(db_session=db_session, complaint=complaint, actor=staff.username,
                              outcome=payload.outcome, note=payload.note, now=clock(), settings=settings,
                              timezone=timezone_of(request))
    return flows.to_read(complaint, clock(), settings)


@staff_router.post("/{number}/contact", responses=STAFF_STEP)
def reveal_contact(number: TicketNumber, db_session: SessionDep, clock: ClockDep, staff: StaffDep) -> dict[str, str]:
    """The citizen's mobile in clear for the follow-up call: only while one is pending; the look is recorded."""
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    mobile = follow_ups.reveal_contact(db_session=db_session, complaint=complaint, actor=staff.username, now=clock())
    return {"number": complaint.number, "mobile": mobile}


def install(app: FastAPI) -> None:
    """Mounts the domain's routes, console pages and clock, and the background overdue check."""
    from complaints.console.views import install_console
    from complaints.open311 import open311_router

    if not hasattr(app.state, "complaint_clock"):
        app.state.complaint_clock = system_clock
    app.include_router(internal_router)
    app.include_router(staff_router)
    install_console(app)
    app.include_router(open311_router)
    run_with_app(app, "complaint_overdue_checks", overdue.run_overdue_checks)
