"""Console login: bcrypt passwords, attempt limits, server-side sessions in a table, CSRF tokens.

The cookie carries a random token; only its SHA-256 is stored, so a leaked
table cannot be replayed. Failed sign-ins are counted per account name and
per client address (service.attempts): past a few failures each further one
makes the key wait longer, and while it waits even the right password is
refused. Other staff pages (appointments, complaints) reuse this through
``app.state.staff_auth``.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import bcrypt
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from conversations.models import utcnow
from handoff import service as handoff_service
from handoff.enums import StaffRole
from handoff.models import Agent, StaffSession
from service.attempts import Attempts, AttemptSettings
from service.errors import ServiceError

SESSION_COOKIE = "console_session"
LOGIN_NONCE_COOKIE = "console_login_nonce"
CSRF_HEADER = "x-csrf-token"
LOGIN_FORM_MAX_AGE = 3600
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


def authenticate(*, db_session: Session, username: str, password: str) -> Agent | None:
    """Returns the active account matching the credentials."""
    agent = handoff_service.get_agent_by_username(db_session=db_session, username=username)
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

    agent: Agent | None
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


def open_session(*, db_session: Session, agent: Agent, hours: int) -> str:
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


def find_session(*, db_session: Session, token: str | None) -> tuple[Agent, StaffSession] | None:
    """Returns the account and session behind a cookie token, if valid and unexpired."""
    if not token or len(token) > 200:
        return None
    row = db_session.execute(
        select(Agent, StaffSession).join(StaffSession, StaffSession.agent_id == Agent.id)
        .where(StaffSession.token_hash == _token_hash(token), StaffSession.expires_at > utcnow(),
               Agent.is_active.is_(True))
    ).first()
    return (row[0], row[1]) if row else None


def staff_auth(request: HTTPConnection) -> Agent | None:
    """Returns the signed-in console user of a request (the app's ``staff_auth``); sets request.state.csrf_token."""
    with request.app.state.database.session() as db_session:
        found = find_session(db_session=db_session, token=request.cookies.get(SESSION_COOKIE))
    if found is None:
        return None
    agent, session = found
    request.state.csrf_token = session.csrf_token
    request.state.staff = agent
    return agent


def require_staff(request: HTTPConnection, role: StaffRole | None = None) -> Agent:
    """Returns the signed-in user or raises 401/403 as JSON."""
    agent = staff_auth(request)
    if agent is None:
        raise ServiceError("please sign in to the console", code="unauthorized", status_code=401)
    if role == StaffRole.supervisor and agent.role != StaffRole.supervisor:
        raise ServiceError("supervisors only", code="forbidden", status_code=403)
    return agent


def check_csrf(request: HTTPConnection, submitted: str | None = None) -> None:
    """Rejects a state-changing request whose CSRF token (header or form field) does not match the session."""
    expected = getattr(request.state, "csrf_token", None)
    token = submitted if submitted is not None else request.headers.get(CSRF_HEADER)
    if not expected or not token or not hmac.compare_digest(str(token).encode(), str(expected).encode()):
        raise ServiceError("missing or wrong CSRF token", code="csrf_failed", status_code=403)


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
