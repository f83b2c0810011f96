"""The one staff authentication of the console: passwords, sessions, roles and CSRF, for every page and API.

- Passwords are bcrypt hashes. Failed sign-ins are counted per account name and
  per client address (service.attempts): past a few failures each further one
  makes the key wait longer, and while it waits even the right password is refused.
- A session lives in a table; the cookie carries a random token of which only
  the SHA-256 is stored, so a leaked table cannot be replayed.
- A role opens console areas (staff.enums.AREA_ROLES). ``staff_api(area)`` guards
  an API (401 without a session, 403 for another role), ``staff_page(area)`` a
  page (to the login page, or the forbidden page in the console layout).
- One CSRF rule: every state-changing request from a session carries the
  session's token, in the ``X-CSRF-Token`` header or a ``csrf_token`` form field.
- APIs that scripts call may also accept the internal API token
  (``staff_api(area, internal=True)``); such a caller acts as a supervisor named by
  the ``X-Staff-Name`` header and needs no CSRF token, having no cookie.
"""

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import bcrypt
from fastapi import Header, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from conversations.models import utcnow
from service.attempts import Attempts, AttemptSettings
from service.errors import ServiceError
from service.internal import require_internal_token
from staff.enums import Area, StaffRole, may_enter
from staff.models import StaffMember, StaffSession

SESSION_COOKIE = "console_session"
LOGIN_NONCE_COOKIE = "console_login_nonce"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
LOGIN_FORM_MAX_AGE = 3600
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Compared against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=10)).decode()


def hash_password(password: str) -> str:
    """Hashes a password with bcrypt."""
    return bcrypt.hashpw(password.encode("utf-8")[:72], bcrypt.gensalt()).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """Checks a password against its bcrypt hash."""
    try:
        return bcrypt.checkpw(password.encode("utf-8")[:72], password_hash.encode())
    except ValueError:
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(*, db_session: Session, username: str, password: str) -> StaffMember | None:
    """Returns the active account matching the credentials."""
    agent = db_session.scalars(select(StaffMember).where(StaffMember.username == username)).first()
    if agent is None or not agent.is_active:
        verify_password(password, _DUMMY_HASH)
        return None
    return agent if verify_password(password, agent.password_hash) else None


def login_keys(username: str, address: str) -> tuple[str, str]:
    """The attempt keys of a sign-in: the account name (case folded) and the client address."""
    return f"login:user:{username.strip().casefold()}", f"login:ip:{address}"


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the account, or the seconds to wait before trying again (0 = wrong password)."""

    agent: StaffMember | None
    retry_after: int = 0


def sign_in(*, db_session: Session, attempts: Attempts, limits: AttemptSettings, username: str, password: str,
            address: str) -> SignIn:
    """Checks the credentials unless the account or the address must wait; counts failures, resets on success.

    Unknown names count like known ones, so the answers do not reveal which accounts exist.
    """
    account_key, address_key = login_keys(username, address)
    wait = max(attempts.check(account_key), attempts.check(address_key))
    if wait:
        return SignIn(None, wait)
    agent = authenticate(db_session=db_session, username=username, password=password)
    if agent is None:
        attempts.record_failure(account_key, limits.login_account)
        attempts.record_failure(address_key, limits.login_address)
        return SignIn(None)
    # The address keeps its count: signing in to one's own account must not clear guesses at others.
    attempts.reset(account_key)
    return SignIn(agent)


def open_session(*, db_session: Session, agent: StaffMember, hours: int) -> str:
    """Starts a session and returns the cookie token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db_session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    db_session.add(StaffSession(token_hash=_token_hash(token), agent_id=agent.id,
                                csrf_token=secrets.token_urlsafe(24), created_at=now,
                                expires_at=now + timedelta(hours=hours)))
    db_session.flush()
    return token


def close_session(*, db_session: Session, token: str) -> None:
    """Ends a session."""
    db_session.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def find_session(*, db_session: Session, token: str | None) -> tuple[StaffMember, StaffSession] | None:
    """Returns the account and session behind a cookie token, if valid and unexpired."""
    if not token or len(token) > 200:
        return None
    row = db_session.execute(
        select(StaffMember, StaffSession).join(StaffSession, StaffSession.agent_id == StaffMember.id)
        .where(StaffSession.token_hash == _token_hash(token), StaffSession.expires_at > utcnow(),
               StaffMember.is_active.is_(True))
    ).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class Staff:
    """The member of staff behind a request: a console session, or a script holding the internal token."""

    id: int | None
    username: str
    display_name: str
    role: str
    # The session's CSRF token; None for an internal caller, which has no cookie to be ridden.
    csrf_token: str | None = None

    @property
    def is_supervisor(self) -> bool:
        """Tells whether this member runs the team (acknowledges escalations, edits canned replies)."""
        return self.role == StaffRole.supervisor

    @property
    def account_id(self) -> int:
        """The console account's id. Only internal callers have none, and they never reach account-bound APIs."""
        if self.id is None:
            raise ServiceError("this action needs a console account", code="forbidden", status_code=403)
        return self.id

    def may(self, area: Area) -> bool:
        """Tells whether this member may use an area of the console."""
        return may_enter(self.role, area)


def signed_in(connection: HTTPConnection) -> Staff | None:
    """Returns the console session's member of staff (read once per request), or None."""
    cached = connection.scope.get("state", {}).get("staff")
    if cached is not None:
        return cached
    with connection.app.state.database.session() as db_session:
        found = find_session(db_session=db_session, token=connection.cookies.get(SESSION_COOKIE))
    if found is None:
        return None
    member, session = found
    staff = Staff(id=member.id, username=member.username, display_name=member.display_name, role=member.role,
                  csrf_token=session.csrf_token)
    connection.state.staff = staff
    return staff


def check_csrf(staff: Staff, submitted: str | None) -> None:
    """Rejects a state change from a session whose CSRF token is missing or wrong."""
    expected = staff.csrf_token
    if expected is None:
        return
    if not submitted or not hmac.compare_digest(str(submitted).encode(), expected.encode()):
        raise ServiceError("missing or wrong CSRF token", code="csrf_failed", status_code=403)


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token a request carries: the header, or the form field of a form post."""
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        token = str((await request.form()).get(CSRF_FIELD) or "")
    return token


def _internal_caller(request: Request, authorization: str, name: str | None) -> Staff:
    require_internal_token(request, authorization)
    username = (name or "staff").strip()[:64] or "staff"
    return Staff(id=None, username=username, display_name=username, role=StaffRole.supervisor)


def staff_api(area: Area, *, internal: bool = False) -> Callable[..., Awaitable[Staff]]:
    """A dependency guarding an API of an area: 401 without a session, 403 for another role or a bad CSRF token."""

    async def guard(request: Request, authorization: Annotated[str | None, Header()] = None,
                    x_staff_name: Annotated[str | None, Header(max_length=64)] = None) -> Staff:
        if internal and (authorization or "").startswith("Bearer "):
            return _internal_caller(request, authorization or "", x_staff_name)
        staff = signed_in(request)
        if staff is None:
            raise ServiceError("please sign in to the console", code="unauthorized", status_code=401)
        if not staff.may(area):
            raise ServiceError("your role may not use this part of the console", code="forbidden", status_code=403)
        if request.method not in SAFE_METHODS:
            check_csrf(staff, await submitted_csrf(request))
        return staff

    guard.__name__ = f"staff_api_{area.value}"
    return guard


class PageDenied(Exception):
    """A console page refused: to the login page when nobody is signed in, else the forbidden page."""

    def __init__(self, staff: Staff | None, area: Area) -> None:
        super().__init__("console page refused")
        self.staff = staff
        self.area = area


def staff_page(area: Area) -> Callable[..., Awaitable[Staff]]:
    """A dependency guarding a page of an area; form posts to a page need the CSRF field too."""

    async def guard(request: Request) -> Staff:
        staff = signed_in(request)
        if staff is None or not staff.may(area):
            raise PageDenied(staff, area)
        if request.method not in SAFE_METHODS:
            check_csrf(staff, await submitted_csrf(request))
        return staff

    guard.__name__ = f"staff_page_{area.value}"
    return guard


def login_form_token(secret_key: str) -> tuple[str, str]:
    """Returns (cookie nonce, signed form token) protecting the login form before a session exists."""
    nonce = secrets.token_urlsafe(16)
    return nonce, URLSafeTimedSerializer(secret_key, salt="console-login").dumps(nonce)


def check_login_form_token(secret_key: str, cookie_nonce: str | None, form_token: str | None) -> bool:
    """Checks the login form's token against its cookie."""
    if not cookie_nonce or not form_token or len(form_token) > 500:
        return False
    try:
        nonce = URLSafeTimedSerializer(secret_key, salt="console-login").loads(form_token, max_age=LOGIN_FORM_MAX_AGE)
    except BadSignature:
        return False
    return hmac.compare_digest(str(nonce).encode(), cookie_nonce.encode())
