"""Sign-in and sign-out of the console, who-am-I, the console's shared static files and its refusal pages."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from service.attempts import attempts_for, client_address, retry_headers
from service.errors import ServiceError
from service.openapi import error_responses
from service.texts import load_texts
from staff.auth import (
    LOGIN_NONCE_COOKIE,
    SESSION_COOKIE,
    PageDenied,
    Staff,
    check_csrf,
    check_login_form_token,
    close_session,
    login_form_token,
    open_session,
    sign_in,
    signed_in,
)
from staff.console import AREA_PATHS, STAFF_DIR, console_templates, render_page
from staff.enums import HOME_AREA, StaffRole

router = APIRouter(tags=["staff"])
templates = console_templates()
# Called with (app, staff id) after a sign-in or a sign-out has committed, e.g. for the handoff's presence.
SignHook = Callable[[FastAPI, int], None]


def _secure(request: Request) -> bool:
    # Secure when the settings say so (production), and always on a request that came over HTTPS.
    return bool(request.app.state.settings.secure_cookies) or request.url.scheme == "https"


def home_of(role: str) -> str:
    """The page a role lands on after signing in."""
    return AREA_PATHS[HOME_AREA.get(StaffRole(role), HOME_AREA[StaffRole.agent])]


def _login_page(request: Request, error: str | None = None, status_code: int = 200,
                headers: dict[str, str] | None = None) -> Response:
    nonce, token = login_form_token(request.app.state.settings.secret_key)
    response = render_page(request, templates, "login.html", staff=None, status_code=status_code,
                           login_token=token, error=error)
    response.headers.update(headers or {})
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request),
                        max_age=3600, path="/console")
    return response


def _wait_text(texts: dict[str, Any], seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}{texts['seconds']}"
    return f"{-(-seconds // 60)}{texts['minutes']}"


def _hooks(app: FastAPI, kind: str) -> list[SignHook]:
    if not hasattr(app.state, "staff_hooks"):
        app.state.staff_hooks = {}
    return app.state.staff_hooks.setdefault(kind, [])


def on_sign_in(app: FastAPI, hook: SignHook) -> None:
    """Runs hook(app, staff id) after each sign-in."""
    _hooks(app, "sign_in").append(hook)


def on_sign_out(app: FastAPI, hook: SignHook) -> None:
    """Runs hook(app, staff id) after each sign-out."""
    _hooks(app, "sign_out").append(hook)


@router.get("/console/login", include_in_schema=False)
def login_form(request: Request) -> Response:
    """Shows the sign-in form (or the member's home page when already signed in)."""
    staff = signed_in(request)
    if staff is not None:
        return RedirectResponse(home_of(staff.role), status_code=303)
    return _login_page(request)


@router.post("/console/login", include_in_schema=False)
def login(request: Request, username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=200)] = "",
          csrf_token: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Signs a member of staff in: checks the form token and the password, opens a server-side session."""
    texts = load_texts("staff")
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
    if outcome.retry_after:
        return _login_page(request, texts["login_throttled"].format(wait=_wait_text(texts, outcome.retry_after)),
                           status_code=429, headers=retry_headers(outcome.retry_after))
    if token is None or outcome.agent is None:
        return _login_page(request, texts["login_failed"], status_code=401)
    for hook in _hooks(request.app, "sign_in"):
        hook(request.app, outcome.agent.id)
    response = RedirectResponse(home_of(outcome.agent.role), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request),
                        max_age=settings.handoff.session_hours * 3600, path="/")
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/console")
    return response


@router.post("/console/logout", include_in_schema=False)
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Signs the member out."""
    staff = signed_in(request)
    if staff is not None:
        check_csrf(staff, csrf_token)
        with request.app.state.database.session() as db_session:
            close_session(db_session=db_session, token=request.cookies.get(SESSION_COOKIE, ""))
        for hook in _hooks(request.app, "sign_out"):
            hook(request.app, staff.id or 0)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _signed_in_or_401(request: Request) -> Staff:
    staff = signed_in(request)
    if staff is None:
        raise ServiceError("please sign in to the console", code="unauthorized", status_code=401)
    return staff


@router.get("/api/staff/me", responses=error_responses(401))
def who_am_i(staff: Annotated[Staff, Depends(_signed_in_or_401)]) -> dict[str, Any]:
    """The signed-in member of staff, the console areas they may use, and their CSRF token."""
    return {"staff": {"id": staff.id, "username": staff.username, "display_name": staff.display_name,
                      "role": staff.role},
            "areas": [area.value for area in AREA_PATHS if staff.may(area)],
            "csrf_token": staff.csrf_token}


async def _page_denied(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageDenied)
    if exc.staff is None:
        return RedirectResponse("/console/login", status_code=303)
    return render_page(request, templates, "forbidden.html", staff=exc.staff, area=exc.area, status_code=403)


def install(app: FastAPI) -> None:
    """Mounts sign-in, who-am-I and the shared static files; installed after the domains' own static mounts."""
    app.include_router(router)
    app.add_exception_handler(PageDenied, _page_denied)
    app.mount("/console/static", StaticFiles(directory=str(STAFF_DIR / "static")), name="console-static")
