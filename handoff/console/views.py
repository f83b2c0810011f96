"""The agent's workspace page, the canned-reply editor, the live queue board, and the console's live websocket."""

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response

from conversations.models import CONVERSATION_ID_PATTERN
from handoff import flows
from handoff import service as handoff_service
from handoff.enums import OPEN_STATUSES, Disposition
from service.attempts import as_utc, open_alerts
from service.database import SessionDep, TransactionalRoute
from service.texts import load_texts
from staff.auth import Staff, signed_in, staff_api, staff_page
from staff.console import console_templates, mount_static, render_page
from staff.enums import Area, StaffRole
from staff.events import STAFF_TOPIC

HERE = Path(__file__).resolve().parent
templates = console_templates(HERE / "templates")
router = APIRouter(route_class=TransactionalRoute, tags=["console"], include_in_schema=False)
WorkspacePage = Annotated[Staff, Depends(staff_page(Area.workspace))]
DashboardPage = Annotated[Staff, Depends(staff_page(Area.dashboard))]
SupervisorApi = Annotated[Staff, Depends(staff_api(Area.dashboard))]


def _page(request: Request, name: str, staff: Staff, area: Area, **context: Any) -> Response:
    return render_page(request, templates, name, staff=staff, area=area, texts=load_texts("handoff.console"),
                       **context)


@router.get("/console/alerts")
def alerts(staff: SupervisorApi, db_session: SessionDep) -> list[dict[str, Any]]:
    """Security alerts nobody has acknowledged yet (e.g. many requesters guessing one code), for supervisors."""
    return [{"id": a.id, "kind": a.kind, "subject": a.subject, "details": a.details,
             "created_at": as_utc(a.created_at).isoformat()} for a in open_alerts(db_session=db_session)]


@router.get("/console")
def workspace(request: Request, staff: WorkspacePage) -> Response:
    """The agent's workspace: queue, chats, context panel."""
    return _page(request, "workspace.html", staff, Area.workspace,
                 dispositions=[d.value for d in Disposition if d != Disposition.returned_to_bot],
                 is_supervisor=staff.is_supervisor)


@router.get("/console/canned")
def canned_editor(request: Request, staff: DashboardPage) -> Response:
    """The supervisors' editor of canned replies (标准化用语), part of the workspace; agents get the forbidden page."""
    return _page(request, "canned.html", staff, Area.workspace)


@router.get("/console/supervisor")
def supervisor_board(request: Request, staff: DashboardPage) -> Response:
    """The live board: queue, agents online, waiting times, ratings as they happen."""
    return _page(request, "supervisor.html", staff, Area.dashboard)


def _same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    # Browsers always send Origin on websockets; refusing foreign ones stops cross-site hijacking.
    return origin is None or urlparse(origin).netloc == websocket.headers.get("host")


def _may_watch(websocket: WebSocket, agent_id: int, role: str, conversation_id: str) -> bool:
    if not CONVERSATION_ID_PATTERN.match(conversation_id):
        return False
    with websocket.app.state.database.session() as db_session:
        ticket = handoff_service.get_open_for_conversation(db_session=db_session, conversation_id=conversation_id)
        return ticket is not None and ticket.status in OPEN_STATUSES and (
            ticket.agent_id in (None, agent_id) or role == StaffRole.supervisor)


@router.websocket("/console/ws")
async def console_socket(websocket: WebSocket) -> None:
    """Streams queue alerts, the agent's own events and the watched conversation's messages."""
    agent = signed_in(websocket)
    if agent is None or not agent.may(Area.workspace) or not _same_origin(websocket):
        await websocket.close(code=4401)
        return
    await websocket.accept()
    app = websocket.app
    hub = app.state.router.hub
    outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue(1000)
    forwarders: dict[str, asyncio.Task[None]] = {}

    async def forward(topic: str, label: str) -> None:
        queue = hub.subscribe(topic)
        try:
            while True:
                event = await queue.get()
                await outgoing.put({"topic": label, **event})
        finally:
            hub.unsubscribe(topic, queue)

    def follow(topic: str, label: str) -> None:
        forwarders[topic] = asyncio.create_task(forward(topic, label))

    async def send_all() -> None:
        while True:
            await websocket.send_json(await outgoing.get())

    follow(flows.QUEUE_TOPIC, "queue")
    follow(STAFF_TOPIC, "staff")
    follow(flows.agent_topic(agent.account_id), "agent")
    sender = asyncio.create_task(send_all())
    try:
        while True:
            raw = await websocket.receive_text()
            try:
                command = json.loads(raw) if len(raw) <= 2000 else {}
            except ValueError:
                command = {}
            kind = command.get("type") if isinstance(command, dict) else None
            if kind == "ping":
                async with app.state.database.async_session() as db_session:
                    handoff_service.set_presence(db_session=db_session, agent_id=agent.account_id, online=True)
                await outgoing.put({"topic": "self", "type": "pong"})
            elif kind == "watch":
                conversation_id = str(command.get("conversation_id", ""))
                for topic in [t for t in forwarders if t.startswith("conversation:")]:
                    forwarders.pop(topic).cancel()
                if _may_watch(websocket, agent.account_id, agent.role, conversation_id):
                    follow(f"conversation:{conversation_id}", "conversation")
                    await outgoing.put({"topic": "self", "type": "watching", "conversation_id": conversation_id})
                else:
                    await outgoing.put({"topic": "self", "type": "error", "code": "cannot_watch"})
            else:
                await outgoing.put({"topic": "self", "type": "error", "code": "unknown_command"})
    except WebSocketDisconnect:
        pass
    finally:
        for task in [*forwarders.values(), sender]:
            task.cancel()
        for task in [*forwarders.values(), sender]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def install_console(app: FastAPI) -> None:
    """Mounts the console pages, websocket and static files."""
    app.include_router(router)
    mount_static(app, "handoff", HERE / "static")
