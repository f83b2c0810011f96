"""The agent console's pages (login, workspace, supervisor board) and its live websocket."""

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, FastAPI, Form, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from conversations.models import CONVERSATION_ID_PATTERN
from handoff import flows
from handoff import service as handoff_service
from handoff.enums import OPEN_STATUSES, Disposition, StaffRole
from handoff.staff import (
    LOGIN_NONCE_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    check_login_form_token,
    close_session,
    login_form_token,
    open_session,
    require_staff,
    sign_in,
    staff_auth,
)
from service.attempts import as_utc, attempts_for, client_address, open_alerts, retry_headers
from service.database import SessionDep, TransactionalRoute
from service.texts import load_texts

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(route_class=TransactionalRoute, tags=["console"], include_in_schema=False)


def _secure(request: Request) -> bool:
    # Secure when the settings say so (production), and always on a request that came over HTTPS.
    return bool(request.app.state.settings.secure_cookies) or request.url.scheme == "https"


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, {"texts": load_texts("handoff.console"), **context},
                                          status_code=status_code)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_page(request: Request, error: str | None = None, status_code: int = 200,
                headers: dict[str, str] | None = None) -> HTMLResponse:
    nonce, token = login_form_token(request.app.state.settings.secret_key)
    response = _page(request, "login.html", status_code=status_code, csrf_token=token, error=error)
    response.headers.update(headers or {})
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=3600, path="/console")
    return response


@router.get("/console/login")
def login_form(request: Request) -> Response:
    """Shows the sign-in form (or the console when already signed in)."""
    if staff_auth(request):
        return RedirectResponse("/console", status_code=303)
    return _login_page(request)


@router.post("/console/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=200)] = "",
          csrf_token: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Signs a user in: checks the form token and the password, opens a server-side session."""
    texts = load_texts("handoff.console")
    settings = request.app.state.settings
    if not check_login_form_token(settings.secret_key, request.cookies.get(LOGIN_NONCE_COOKIE), csrf_token):
        return _login_page(request, texts["login_expired"], status_code=403)
    token = None
    with request.app.state.database.session() as db_session:
        outcome = sign_in(db_session=db_session, attempts=attempts_for(request.app, db_session),
                          limits=settings.attempts, username=username.strip(), password=password,
                          address=client_address(request))
        if outcome.agent is not None:
            token = open_session(db_session=db_session, agent=outcome.agent, hours=settings.handoff.session_hours)
            handoff_service.set_presence(db_session=db_session, agent_id=outcome.agent.id, online=True)
    if outcome.retry_after:
        return _login_page(request, texts["login_throttled"].format(wait=_wait_text(texts, outcome.retry_after)),
                           status_code=429, headers=retry_headers(outcome.retry_after))
    if token is None:
        return _login_page(request, texts["login_failed"], status_code=401)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=settings.handoff.session_hours * 3600, path="/")
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/console")
    flows.announce_queue(request.app)
    return response


def _wait_text(texts: dict[str, Any], seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}{texts['seconds']}"
    return f"{-(-seconds // 60)}{texts['minutes']}"


@router.get("/console/alerts")
def alerts(request: Request, db_session: SessionDep) -> list[dict[str, Any]]:
    """Security alerts nobody has acknowledged yet (e.g. many requesters guessing one code), for supervisors."""
    require_staff(request, StaffRole.supervisor)
    return [{"id": a.id, "kind": a.kind, "subject": a.subject, "details": a.details,
             "created_at": as_utc(a.created_at).isoformat()} for a in open_alerts(db_session=db_session)]


@router.post("/console/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Signs the user out and marks them offline."""
    agent = staff_auth(request)
    if agent is not None:
        check_csrf(request, csrf_token)
        with request.app.state.database.session() as db_session:
            close_session(db_session=db_session, token=request.cookies.get(SESSION_COOKIE, ""))
            handoff_service.set_presence(db_session=db_session, agent_id=agent.id, online=False)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/console")
def workspace(request: Request) -> Response:
    """The agent's workspace: queue, chats, context panel."""
    agent = staff_auth(request)
    if agent is None:
        return RedirectResponse("/console/login", status_code=303)
    return _page(request, "workspace.html", agent=agent, csrf_token=request.state.csrf_token,
                 dispositions=[d.value for d in Disposition if d != Disposition.returned_to_bot],
                 is_supervisor=agent.role == StaffRole.supervisor)


@router.get("/console/supervisor")
def supervisor_board(request: Request) -> Response:
    """The supervisor's board: live queue, agents online, waiting times, ratings."""
    agent = staff_auth(request)
    if agent is None:
        return RedirectResponse("/console/login", status_code=303)
    if agent.role != StaffRole.supervisor:
        return _page(request, "forbidden.html", status_code=403, agent=agent, csrf_token=request.state.csrf_token,
                     is_supervisor=False)
    return _page(request, "supervisor.html", agent=agent, csrf_token=request.state.csrf_token, is_supervisor=True)


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
    agent = staff_auth(websocket)
    if agent is None or not _same_origin(websocket):
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
    follow(flows.agent_topic(agent.id), "agent")
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
                    handoff_service.set_presence(db_session=db_session, agent_id=agent.id, online=True)
                await outgoing.put({"topic": "self", "type": "pong"})
            elif kind == "watch":
                conversation_id = str(command.get("conversation_id", ""))
                for topic in [t for t in forwarders if t.startswith("conversation:")]:
                    forwarders.pop(topic).cancel()
                if _may_watch(websocket, agent.id, agent.role, conversation_id):
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
    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
