"""Console sign-in limits: per account and per address, growing delays, the right password refused while waiting."""

import re
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.app import create_app
from service.attempts import DatabaseAlerts
from service.settings import Settings
from staff.enums import StaffRole
from tests.complaints.conftest import FrozenClock
from tests.handoff.conftest import PASSWORD, sign_in

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def attempt(client: TestClient, username: str, password: str):
    """Posts the login form as a browser would, signed out: fetch the form, send its token back."""
    client.cookies.clear()
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


def frozen(app: FastAPI) -> FrozenClock:
    clock = FrozenClock(START)
    app.state.attempt_clock = clock
    return clock


def test_the_account_waits_after_five_failures_even_for_the_right_password(client, app, agent_factory) -> None:
    agent_factory("a1")
    clock = frozen(app)
    assert [attempt(client, "a1", f"wrong-{i}").status_code for i in range(5)] == [401] * 5
    # From the 6th on (so the 11th too) the account waits; nothing is checked or counted meanwhile.
    throttled = [attempt(client, "a1", f"wrong-{i}") for i in range(5, 11)]
    assert [r.status_code for r in throttled] == [429] * 6
    assert throttled[-1].headers["Retry-After"] == "1"
    assert "登录失败次数过多" in throttled[-1].text and "1秒" in throttled[-1].text
    right = attempt(client, "A1 ", PASSWORD)  # the account name is counted case-folded
    assert right.status_code == 429 and "console_session" not in right.headers.get("set-cookie", "")
    clock.advance(seconds=1)
    assert attempt(client, "a1", "wrong-again").status_code == 401
    assert attempt(client, "a1", PASSWORD).headers["Retry-After"] == "2"
    clock.advance(seconds=2)
    assert attempt(client, "a1", "wrong-again").status_code == 401
    assert attempt(client, "a1", PASSWORD).headers["Retry-After"] == "4"
    clock.advance(seconds=4)
    assert attempt(client, "a1", PASSWORD).status_code == 303
    # Success reset the account: five fresh failures are allowed again.
    assert [attempt(client, "a1", "wrong").status_code for _ in range(5)] == [401] * 5
    assert attempt(client, "a1", "wrong").status_code == 429


def test_the_delay_is_capped_at_fifteen_minutes(client, app, agent_factory) -> None:
    agent_factory("a1")
    clock = frozen(app)
    for _ in range(20):
        response = attempt(client, "a1", "wrong")
        clock.advance(seconds=int(response.headers.get("Retry-After", "0")))
        waiting = attempt(client, "a1", "wrong")
        if waiting.status_code == 429:
            clock.advance(seconds=int(waiting.headers["Retry-After"]))
    last = attempt(client, "a1", "wrong")
    assert last.status_code == 401
    throttled = attempt(client, "a1", PASSWORD)
    assert throttled.headers["Retry-After"] == "900" and "15分钟" in throttled.text


def test_one_address_failing_across_accounts_waits(client, app, agent_factory) -> None:
    for n in range(11):
        agent_factory(f"a{n}")
    clock = frozen(app)
    for n in range(10):  # two failures each: no account reaches its own limit, the address reaches 20
        assert attempt(client, f"a{n}", "wrong").status_code == 401
        assert attempt(client, f"a{n}", "wrong").status_code == 401
    refused = attempt(client, "a10", PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    # Another address signs in to the same account; the account itself was never at fault.
    elsewhere = TestClient(app, client=("203.0.113.7", 40000))
    assert attempt(elsewhere, "a10", PASSWORD).status_code == 303
    # Signing in elsewhere did not clear this address.
    assert attempt(client, "a10", PASSWORD).status_code == 429
    clock.advance(seconds=1)
    assert attempt(client, "a10", PASSWORD).status_code == 303


def test_unknown_accounts_are_limited_like_known_ones(client, app) -> None:
    frozen(app)
    assert [attempt(client, "nobody", "x").status_code for _ in range(6)] == [401] * 5 + [429]


def test_cookies_follow_the_secure_setting(settings: Settings, agent_factory) -> None:
    agent_factory("a1")
    production = create_app(settings.model_copy(update={"cookie_secure": None, "environment": "production"}))
    page = TestClient(production).get("/console/login")
    assert "Secure" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    development = create_app(settings.model_copy(update={"cookie_secure": False}))
    assert "Secure" not in TestClient(development).get("/console/login").headers["set-cookie"]
    # Over HTTPS the cookies are Secure whatever the setting.
    over_https = TestClient(development, base_url="https://testserver")
    response = attempt(over_https, "a1", PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "console_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_supervisors_see_open_security_alerts(client, app, agent_factory) -> None:
    agent_factory("boss", role=StaffRole.supervisor)
    agent_factory("a1")
    with app.state.database.session() as s:
        DatabaseAlerts(s).raise_alert("lookup_storm", "booking:ABC234", {"failures": 20, "requesters": 5}, START)
    sign_in(client, "a1")
    assert client.get("/console/alerts").status_code == 403
    sign_in(client, "boss")
    alerts = client.get("/console/alerts").json()
    assert [(a["kind"], a["subject"], a["details"]["requesters"]) for a in alerts] == [
        ("lookup_storm", "booking:ABC234", 5)]
