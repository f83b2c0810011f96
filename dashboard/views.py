"""HTTP routes of the dashboard: the figures as JSON, each chart as CSV, and the live-figures task.

Only supervisors may read them (401 without a session, 403 for another role).
Chart.js 4.6.1 (MIT, from the npm registry) draws the charts on the page: see
dashboard/console/static/vendor/README.md.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from appointments.views import rules_of
from conversations.models import utcnow
from dashboard import live
from dashboard.console.views import install_console
from dashboard.export import CHARTS, to_csv
from dashboard.flows import Sources, compute
from dashboard.periods import Grain, make_period
from faq.views import get_knowledge
from handoff.enums import HandoffReason
from service.background import run_with_app
from service.database import SessionDep, TransactionalRoute
from service.errors import NotFoundError
from service.openapi import error_responses
from service.texts import load_texts
from staff.auth import Staff, staff_api
from staff.enums import Area

router = APIRouter(route_class=TransactionalRoute, prefix="/api/dashboard", tags=["dashboard"],
                   responses=error_responses(401, 403, 422))
SupervisorApi = Annotated[Staff, Depends(staff_api(Area.dashboard))]
GrainQuery = Annotated[Grain, Query(description="day: the last 7 local days; week: the last 8 ISO weeks")]
TEXTS = "dashboard.console"


def dashboard_now() -> datetime:
    """The moment the figures are read at (tests put a fixed one in its place)."""
    return utcnow()


NowDep = Annotated[datetime, Depends(dashboard_now)]


def _sources(request: Request, db_session: Session, grain: Grain, now: datetime) -> Sources:
    app = request.app
    # The FAQ log is written behind the replies: what is queued belongs in the figures too.
    app.state.write_behind.flush_now()
    handoff_texts = load_texts("handoff.console")
    return Sources(
        db_session=db_session, period=make_period(grain, now, app.state.settings.timezone), now=now,
        titles={entry_id: entry.title for entry_id, entry in get_knowledge(request).entries.items()},
        reason_labels={reason.value: handoff_texts.get(f"reason_{reason.value}", reason.value)
                       for reason in HandoffReason},
        complaint_settings=app.state.settings.complaints, directory=rules_of(request).directory)


@router.get("/figures")
def get_figures(request: Request, db_session: SessionDep, _staff: SupervisorApi, now: NowDep,
                period: GrainQuery = Grain.day) -> dict[str, Any]:
    """Every figure for the last 7 days (by day) or 8 weeks (by week), with each chart's table as exported."""
    figures = compute(_sources(request, db_session, period, now))
    texts = load_texts(TEXTS)
    figures["tables"] = {}
    for chart, (_, table) in CHARTS.items():
        header, rows = table(figures, texts)
        figures["tables"][chart] = {"header": header, "rows": rows}
    return figures


@router.get("/export/{chart}.csv", response_class=Response, responses={
    200: {"description": "One chart's table as CSV (UTF-8 with BOM)", "content": {"text/csv": {"schema": {"type": "string"}}}},
    **error_responses(404)})
def export_chart(request: Request, db_session: SessionDep, _staff: SupervisorApi, now: NowDep,
                 chart: Annotated[str, Path(max_length=40)], period: GrainQuery = Grain.day) -> Response:
    """One chart's figures as a CSV table, as the page shows them."""
    if chart not in CHARTS:
        raise NotFoundError(f"no chart named {chart[:40]}", code="chart_not_found")
    section, table = CHARTS[chart]
    sources = _sources(request, db_session, period, now)
    figures = compute(sources, None if section is None else [section])
    filename = f"dashboard-{chart}-{period.value}-{sources.period.last_day.isoformat()}.csv"
    return Response(to_csv(table(figures, load_texts(TEXTS))), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def _watch(app: FastAPI) -> None:
    await live.run_watch(app, app.state.dashboard_watch)


def install(app: FastAPI) -> None:
    """Mounts the dashboard's API and page and starts the live-figures task with the app."""
    app.include_router(router)
    install_console(app)
    app.state.dashboard_watch = live.FiguresWatch(app.state.database)
    run_with_app(app, "dashboard_watch", _watch)
