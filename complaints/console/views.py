"""The complaint console pages: tickets by urgency with live SLA clocks, follow-up calls, one ticket, hotspots.

Pages are server-rendered (every value HTML-escaped) and work without script;
``complaints.js`` only redraws the clocks every ``console_tick_seconds``.
Form posts carry the session's CSRF field (checked by the page guard); a step
the ticket's state refuses comes back to the ticket page with the reason.
"""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from complaints import flows, follow_ups, risk
from complaints import service as complaint_service
from complaints.clock import ClockDep, as_utc
from complaints.deadlines import moment_phrase, span_phrase
from complaints.enums import OPEN_STATUSES, ClockState, FollowUpOutcome
from complaints.models import DeadlineClockRead
from complaints.views import TicketNumber, domain_settings, require_supervisor, timezone_of
from service.database import DatabaseDep, SessionDep, TransactionalRoute
from service.errors import ServiceError
from service.texts import load_texts
from staff.auth import Staff, staff_page
from staff.console import add_page_script, console_templates, mount_static, render_page
from staff.enums import Area

HERE = Path(__file__).resolve().parent
templates = console_templates(HERE / "templates")
router = APIRouter(route_class=TransactionalRoute, prefix="/console/complaints", tags=["complaints-console"],
                   include_in_schema=False)
ComplaintsPage = Annotated[Staff, Depends(staff_page(Area.complaints))]
# The page forms' paths and the staff step each records.
STEPS = {"first-response": "first_response", "plan": "plan", "resolution": "resolution", "close": "close"}
RUNNING = (ClockState.on_track, ClockState.due_soon, ClockState.overdue)
FormText = Annotated[str, Form(max_length=4000)]


def span_words(seconds: float, texts: dict[str, Any]) -> str:
    """Says a length of time for a clock: 不足1分钟, 25分钟, 3小时5分钟, 1天2小时 (complaints.js says it the same way)."""
    minutes = int(abs(seconds)) // 60
    if minutes < 1:
        return str(texts["span_moment"])
    if minutes < 60:
        return str(texts["span_minutes"]).format(m=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return str(texts["span_hours"]).format(h=hours, m=minutes)
    days, hours = divmod(hours, 24)
    return str(texts["span_days"]).format(d=days, h=hours)


class PageWords:
    """Formats times and clocks for one page in the centre's time zone."""

    def __init__(self, texts: dict[str, Any], now: datetime, timezone: str) -> None:
        self.texts, self.now, self.timezone = texts, as_utc(now), timezone

    def local(self, moment: datetime | None) -> str:
        """A stored time as the centre's local date and time."""
        return as_utc(moment).astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M") if moment else ""

    def moment(self, moment: datetime) -> str:
        """A time relative to today: 今天15:42, 明天09:00."""
        return moment_phrase(as_utc(moment), self.now, self.timezone)

    def clock(self, clock: DeadlineClockRead) -> str:
        """A clock's words: time left, overdue by, or when the step was taken."""
        if clock.state in RUNNING and clock.seconds_left is not None:
            key = "clock_over" if clock.seconds_left < 0 else "clock_left"
            return str(self.texts[key]).format(span=span_words(clock.seconds_left, self.texts))
        if clock.done_at is not None:
            return str(self.texts["clock_done_at"]).format(at=self.moment(clock.done_at))
        return ""


def _page(request: Request, name: str, staff: Staff, now: datetime, **context: Any) -> Response:
    texts = load_texts("complaints.console")
    settings = domain_settings(request)
    return render_page(request, templates, name, staff=staff, area=Area.complaints, texts=texts,
                       labels=load_texts("complaints"), words=PageWords(texts, now, timezone_of(request)),
                       now_iso=as_utc(now).isoformat(), due_soon_seconds=settings.due_soon_minutes * 60,
                       tick_seconds=settings.console_tick_seconds,
                       first_span=span_phrase(settings.first_response.minutes),
                       plan_span=span_phrase(settings.plan.minutes), **context)


@router.get("")
def ticket_list(request: Request, db_session: SessionDep, clock: ClockDep, staff: ComplaintsPage) -> Response:
    """Open tickets overdue first, then by the nearest deadline; escalations; the follow-up calls to make."""
    settings, now = domain_settings(request), clock()
    open_tickets = complaint_service.get_all(db_session=db_session, statuses=list(OPEN_STATUSES))
    tickets = [flows.to_read(c, now, settings, with_events=False)
               for c in risk.sort_by_urgency(open_tickets, now, settings)]
    calls = [follow_ups.to_read(f, c, now) for f, c in follow_ups.get_all_pending(db_session=db_session)]
    figures = {"overdue": sum(t.urgency == "overdue" for t in tickets),
               "due_soon": sum(t.urgency == "due_soon" for t in tickets), "open": len(tickets),
               "follow_ups_due": sum(c.is_due for c in calls)}
    return _page(request, "complaints_list.html", staff, now, tickets=tickets, follow_ups=calls, figures=figures,
                 escalations=risk.open_escalations(db_session=db_session))


@router.get("/hotspots")
def hotspot_page(request: Request, db_session: SessionDep, clock: ClockDep, staff: ComplaintsPage) -> Response:
    """The hotspot report of the last four weeks."""
    now = clock()
    rows = risk.hotspots(db_session=db_session, since=now - timedelta(weeks=4), until=now,
                         timezone=timezone_of(request))
    return _page(request, "complaints_hotspots.html", staff, now, rows=rows)


@router.post("/escalations/{escalation_id}/acknowledge")
def acknowledge_escalation(escalation_id: int, request: Request, db_session: SessionDep, clock: ClockDep,
                           staff: ComplaintsPage) -> Response:
    """A supervisor marks an escalation as seen from the list page; anyone else gets the forbidden page."""
    try:
        require_supervisor(staff)
    except ServiceError:
        return render_page(request, templates, "forbidden.html", staff=staff, area=Area.complaints,
                           status_code=403)
    if not 1 <= escalation_id < 2**31:
        raise ServiceError("no such escalation", code="not_found", status_code=404)
    risk.acknowledge_escalation(db_session=db_session, escalation_id=escalation_id, actor=staff.username,
                                now=clock())
    return RedirectResponse("/console/complaints", status_code=303)


@router.get("/{number}")
def ticket_page(number: TicketNumber, request: Request, db_session: SessionDep, clock: ClockDep,
                staff: ComplaintsPage, error: str | None = None, done: str | None = None) -> Response:
    """One ticket: warnings, SLA clocks, the whole timeline, the next steps and the follow-up call."""
    settings, now = domain_settings(request), clock()
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    ticket = flows.to_read(complaint, now, settings)
    escalations = risk.escalations_of(db_session=db_session, complaint=complaint)
    calls = [follow_ups.to_read(f, complaint, now) for f in follow_ups.get_for(db_session=db_session,
                                                                                 complaint=complaint)]
    errors = load_texts("complaints.console")["errors"]
    return _page(request, "complaints_detail.html", staff, now, ticket=ticket, escalations=escalations,
                 pending_call=next((c for c in calls if c.status == "pending"), None),
                 past_calls=[c for c in calls if c.status != "pending"],
                 outcomes=[o.value for o in FollowUpOutcome],
                 error=errors.get(error or "", errors["other"]) if error else None, done=bool(done))


def _back(number: str, error: str | None = None) -> RedirectResponse:
    query = f"?error={quote(error)}" if error else "?done=1"
    return RedirectResponse(f"/console/complaints/{quote(number.strip().upper())}{query}", status_code=303)


def _refused(exc: ServiceError) -> bool:
    # Refusals the ticket's state or the form's words explain; an unknown ticket stays a 404.
    return exc.status_code in (409, 422)


@router.post("/{number}/follow-up")
def follow_up_step(number: TicketNumber, request: Request, db_session: SessionDep, clock: ClockDep,
                   staff: ComplaintsPage, outcome: Annotated[str, Form(max_length=32)] = "",
                   note: FormText = "") -> Response:
    """Records the follow-up call's outcome from the ticket page."""
    complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
    if outcome not in FollowUpOutcome.__members__:
        return _back(number, "invalid_outcome")
    try:
        follow_ups.record_outcome(db_session=db_session, complaint=complaint, actor=staff.username,
                                  outcome=FollowUpOutcome(outcome), note=note or None, now=clock(),
                                  settings=domain_settings(request), timezone=timezone_of(request))
    except ServiceError as exc:
        if not _refused(exc):
            raise
        db_session.rollback()
        return _back(number, exc.code)
    return _back(number)


@router.post("/{number}/{step}")
async def ticket_step(number: TicketNumber, step: str, request: Request, database: DatabaseDep, clock: ClockDep,
                      staff: ComplaintsPage, text: FormText = "",
                      is_public: Annotated[bool, Form()] = False) -> Response:
    """Records a step from the ticket page's forms (a ticked box makes the note public), then shows the ticket."""
    settings, now = domain_settings(request), clock()
    try:
        if step in ("assign", "note"):
            async with database.async_session() as db_session:
                complaint = complaint_service.get_by_number_or_404(db_session=db_session, number=number)
                if step == "assign":
                    complaint_service.assign(db_session=db_session, complaint=complaint, actor=staff.username,
                                             assignee=(text.strip() or staff.username)[:64], now=now)
                else:
                    note = complaint_service.check_text(text, field="text", min_chars=1,
                                                        max_chars=settings.staff_text_max_chars)
                    complaint_service.add_note(db_session=db_session, complaint=complaint, actor=staff.username,
                                               text=note, now=now)
        elif step in STEPS:
            await flows.staff_step(database=database, router=request.app.state.router, number=number,
                                   step=STEPS[step], actor=staff.username,  # type: ignore[arg-type]
                                   text=text if text.strip() or step != "close" else None, now=now,
                                   settings=settings, is_public=is_public)
        else:
            raise ServiceError("unknown step", code="not_found", status_code=404)
    except ServiceError as exc:
        if not _refused(exc):
            raise
        return _back(number, exc.code)
    return _back(number)


OVERDUE_ALERTS_SCRIPT = "/console/static/complaints/overdue-alerts.js"


def install_console(app: FastAPI) -> None:
    """Mounts the complaint console pages and their static files; every console page of staff who work
    complaints (the workspace too) carries the live overdue warning."""
    app.include_router(router)
    mount_static(app, "complaints", HERE / "static")
    add_page_script(app, OVERDUE_ALERTS_SCRIPT, Area.complaints)
