"""Who may reach what: every console page and staff API, tried by every role, by nobody, and without CSRF.

The routes are read from the app itself, so a page or API added later is
covered the day it is added, and one added without a guard fails here.
"""

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, _iter_included_route_candidates
from fastapi.testclient import TestClient

from staff.enums import AREA_ROLES, Area, StaffRole
from tests.handoff.conftest import sign_in

# Routes under the staff prefixes that are open on purpose: the sign-in form, sign-out (which checks its own
# CSRF field and only ends the caller's own session), who-am-I (any signed-in member), and the citizen's rating.
OPEN_ROUTES = {"/console/login", "/console/logout", "/api/staff/me", "/api/handoff/ratings"}
STAFF_PREFIXES = ("/console", "/api/handoff", "/api/knowledge", "/api/dashboard", "/api/staff")
GUARD_NAME = re.compile(r"^staff_(api|page)_(\w+)$")


def _guards(dependant: Any) -> list[tuple[str, Area]]:
    found = []
    for sub in dependant.dependencies:
        name = getattr(sub.call, "__name__", "")
        match = GUARD_NAME.match(name)
        if match:
            found.append((match.group(1), Area(match.group(2))))
        found.extend(_guards(sub))
    return found


def all_routes(app: Any) -> list[Any]:
    """Every route of the app with its full path (included routers are flattened lazily by FastAPI)."""
    return list(_iter_included_route_candidates(app.routes))


def staff_routes(app: Any) -> list[tuple[str, str, str, Area]]:
    """(method, path, kind, area) of every guarded route."""
    routes = []
    for route in all_routes(app):
        if isinstance(route, APIRoute):
            for kind, area in _guards(route.dependant)[:1]:
                for method in sorted(route.methods - {"HEAD"}):
                    routes.append((method, route.path, kind, area))
    return routes


def concrete(path: str) -> str:
    """A path with its parameters filled by values that exist nowhere."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_staff_route_has_a_guard(app) -> None:
    guarded = {path for _, path, _, _ in staff_routes(app)}
    unguarded = [route.path for route in all_routes(app)
                 if isinstance(route, APIRoute) and route.path.startswith(STAFF_PREFIXES)
                 and route.path not in guarded and route.path not in OPEN_ROUTES]
    assert unguarded == []
    # Every area has pages or APIs, and the websocket is the only socket.
    assert {area for *_, area in staff_routes(app)} == set(Area)
    assert [r.path for r in all_routes(app) if isinstance(r, APIWebSocketRoute) and r.path.startswith("/console")] == \
        ["/console/ws"]


def test_nobody_signed_in_is_refused_everywhere(client: TestClient, app) -> None:
    for method, path, kind, _ in staff_routes(app):
        response = client.request(method, concrete(path), follow_redirects=False)
        if kind == "page":
            assert response.status_code == 303 and response.headers["location"] == "/console/login", (method, path)
        else:
            assert response.status_code == 401, (method, path, response.status_code)


@pytest.mark.parametrize("role", list(StaffRole))
def test_each_role_reaches_only_its_areas(client: TestClient, app, accounts, role: StaffRole) -> None:
    csrf = sign_in(client, accounts[role])
    tried = 0
    for method, path, kind, area in staff_routes(app):
        allowed = role in AREA_ROLES[area]
        if allowed and method != "GET":
            continue  # a permitted change is tested by its own domain; here only the refusals
        response = client.request(method, concrete(path), headers={"X-CSRF-Token": csrf}, follow_redirects=False)
        tried += 1
        if allowed:
            assert response.status_code not in (401, 403), (role, method, path, response.status_code)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            if kind == "page":
                assert 'id="forbidden-message"' in response.text
            else:
                assert response.json()["error"]["code"] == "forbidden"
    assert tried > 10


def test_the_agent_is_kept_from_supervisor_and_knowledge_pages(client: TestClient, accounts) -> None:
    sign_in(client, accounts[StaffRole.agent])
    page = client.get("/console")
    assert page.status_code == 200
    nav = re.findall(r'id="nav-(\w+)"', page.text)
    assert nav == ["workspace", "appointments", "complaints"]
    for path in ("/console/dashboard", "/console/knowledge", "/console/supervisor"):
        assert client.get(path, follow_redirects=False).status_code == 403, path


def test_each_role_lands_on_its_home_and_sees_its_nav(client: TestClient, accounts) -> None:
    homes = {StaffRole.agent: "/console", StaffRole.supervisor: "/console", StaffRole.operator: "/console/knowledge"}
    navs = {StaffRole.agent: ["workspace", "appointments", "complaints"],
            StaffRole.supervisor: ["workspace", "appointments", "complaints", "knowledge", "dashboard"],
            StaffRole.operator: ["knowledge"]}
    for role, username in accounts.items():
        client.cookies.clear()
        form = client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
        response = client.post("/console/login", data={"username": username, "password": "correct-horse-9",
                                                       "csrf_token": token}, follow_redirects=False)
        assert response.headers["location"] == homes[role]
        me = client.get("/api/staff/me").json()
        assert me["staff"]["role"] == role and me["areas"] == navs[role]
        assert re.findall(r'id="nav-(\w+)"', client.get(homes[role]).text) == navs[role]


def test_a_change_without_the_csrf_token_is_refused(client: TestClient, app, accounts) -> None:
    sign_in(client, accounts[StaffRole.supervisor])
    changes = [(m, p) for m, p, _, _ in staff_routes(app) if m in ("POST", "PUT", "PATCH", "DELETE")]
    assert changes
    for method, path in changes:
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = client.request(method, concrete(path), headers=headers, follow_redirects=False)
            assert response.status_code == 403, (method, path, response.status_code)


def test_an_operator_cannot_open_the_console_socket(client: TestClient, accounts) -> None:
    from starlette.websockets import WebSocketDisconnect

    sign_in(client, accounts[StaffRole.operator])
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/console/ws") as socket:
        socket.receive_json()
    assert closed.value.code == 4401


def test_a_forged_or_expired_session_cookie_is_nobody(client: TestClient, accounts) -> None:
    for cookie in ("forged", "x" * 500, ""):
        client.cookies.clear()
        client.cookies.set("console_session", cookie)
        assert client.get("/api/staff/me").status_code == 401
        assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"
