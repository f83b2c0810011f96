"""A bounded property-based fuzz of the OpenAPI spec with schemathesis.

Every operation the spec documents gets schemathesis' coverage cases (boundary
values and each way to break each parameter) and generated requests, valid
ones (positive) and ones that break the schema (negative), as an anonymous
caller and with each kind of credential that opens it: the internal token, an
integration key with a conversation's access token, a supervisor's console
session with its CSRF token, and an Open311 API key; staff routes address a
seeded complaint and handoff ticket. Each answer must not be a 5xx (a documented
503 of a dependency that is down in tests, i.e. Rasa, is fine), its status and
media type must be documented and its body must match the documented schema.
The budget is fixed (examples per operation, mode and caller; derandomized), so
the run is repeatable and ends in a few minutes on two cores. It prints the
operations, requests, statuses and every distinct failure with a curl line.
"""

import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from sqlalchemy.orm import Session

import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import ServerError
from schemathesis.errors import FailureGroup
from schemathesis.python import asgi
from service.settings import Settings
from tests.conftest import INTEGRATION_KEY

# Examples per operation, per generation mode and per credential profile.
MAX_EXAMPLES = 50
OPEN311_KEY = "open311-key-for-tests-0001"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with an Open311 API key so keyed GeoReport calls are fuzzed too."""
    complaints = settings.complaints.model_copy(update={"open311_api_keys": [OPEN311_KEY]})
    return settings.model_copy(update={"complaints": complaints})


@dataclass
class Profile:
    """One kind of caller: the credentials it presents and the operations they open."""

    name: str
    applies: Callable[[str], bool]
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    path_parameters: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finding:
    """One distinct failure: where, what, and how to reproduce it."""

    operation: str
    profile: str
    status: int | None
    title: str
    message: str
    reproduce: str


@dataclass
class Tally:
    """What the fuzz did and found."""

    operations: set[str] = field(default_factory=set)
    requests: int = 0
    findings: dict[tuple[str, str, int | None], Finding] = field(default_factory=dict)
    failed_requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)

    def add(self, finding: Finding) -> None:
        self.findings.setdefault((finding.operation, finding.title, finding.status), finding)


def _seed_console_session(db_session: Session, hours: int) -> tuple[str, str]:
    """A supervisor's console session: (cookie token, CSRF token)."""
    from handoff import service as handoff_service
    from staff.enums import StaffRole
    from staff.auth import find_session, hash_password, open_session

    agent = handoff_service.create_agent(db_session=db_session, username="fuzz.supervisor", display_name="模糊测试",
                                         password_hash=hash_password("fuzz-password-0001"),
                                         role=StaffRole.supervisor, max_chats=3)
    token = open_session(db_session=db_session, agent=agent, hours=hours)
    found = find_session(db_session=db_session, token=token)
    assert found is not None
    return token, found[1].csrf_token


def _seed_cases(client: Any, internal_headers: dict[str, str]) -> dict[str, Any]:
    """A complaint and a handoff ticket, filed the way the bot files them, so staff routes reach real records."""
    from conversations import access
    from conversations.enums import Channel

    filed = client.post("/internal/complaints", headers=internal_headers, json={
        "category": "staff_attitude", "description": "3号窗口工作人员态度很差，不耐烦地让我回去。",
        "mobile": "13812345678"})
    assert filed.status_code == 201, filed.text
    ticket = client.post("/internal/handoff/tickets", headers=internal_headers, json={
        "conversation_id": access.new_conversation_id(Channel.api), "reason": "explicit",
        "turns": [{"text": "我要找人工"}]})
    assert ticket.status_code == 200, ticket.text
    return {"number": filed.json()["number"], "ticket_id": ticket.json()["ticket_id"]}


def _profiles(app: FastAPI, internal_headers: dict[str, str], records: dict[str, Any]) -> list[Profile]:
    from conversations import access
    from conversations import service as conversation_service
    from conversations.enums import Channel

    settings = app.state.settings
    conversation_id = access.new_conversation_id(Channel.api)
    with app.state.database.session() as db_session:
        conversation_service.get_or_create(db_session=db_session, conversation_id=conversation_id,
                                           channel=Channel.api)
        session_token, csrf_token = _seed_console_session(db_session, settings.handoff.session_hours)
    conversation_token = access.issue_token(settings.secret_key, Channel.api, conversation_id)

    def staff_paths(path: str) -> bool:
        return path.startswith(("/api/complaints", "/api/appointments", "/console/appointments"))

    return [
        Profile("anonymous", lambda _path: True),
        Profile("internal token", lambda path: path.startswith(("/internal/", "/api/faq")) or staff_paths(path),
                headers=internal_headers, path_parameters={"number": records["number"]}),
        Profile("conversation owner", lambda path: path.startswith("/api/conversations"),
                headers={"X-API-Key": INTEGRATION_KEY, "Authorization": f"Bearer {conversation_token}"},
                path_parameters={"conversation_id": conversation_id}),
        Profile("console supervisor", lambda path: path.startswith("/api/handoff") or staff_paths(path),
                headers={"X-CSRF-Token": csrf_token}, cookies={"console_session": session_token},
                path_parameters=records),
        Profile("open311 key", lambda path: path.startswith("/open311/"), query={"api_key": OPEN311_KEY}),
    ]


def _documented(operation: Any) -> set[str]:
    return {str(status) for status in operation.definition.raw.get("responses", {})}


def _is_documented_outage(operation: Any, status: int, failure: Exception) -> bool:
    # A dependency that is down in tests (Rasa) answers a documented 503; that is the product working.
    return status == 503 and "503" in _documented(operation) and isinstance(failure, ServerError)


def _call(tally: Tally, profile: Profile, case: Any) -> None:
    operation = case.operation
    tally.requests += 1
    try:
        response = case.call(headers=profile.headers or None, cookies=profile.cookies or None)
    except Exception as exc:  # noqa: BLE001 - an exception escaping the app is a 500
        tally.failed_requests += 1
        tally.add(Finding(operation.label, profile.name, 500, f"app raised {type(exc).__name__}",
                          "".join(traceback.format_exception_only(exc)).strip()[-2000:],
                          _curl(case, profile)))
        return
    tally.statuses[response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=profile.headers or None)
    except FailureGroup as group:
        real = [f for f in group.exceptions if not _is_documented_outage(operation, response.status_code, f)]
        if real:
            tally.failed_requests += 1
        for failure in real:
            tally.add(Finding(operation.label, profile.name, response.status_code, failure.title,
                              str(failure.message)[:2000], _curl(case, profile)))


def _curl(case: Any, profile: Profile) -> str:
    try:
        return str(case.as_curl_command(headers=profile.headers or None))
    except Exception:  # noqa: BLE001 - a repro line is a courtesy
        return repr(case)


def _fuzz(tally: Tally, operation: Any, profile: Profile, mode: GenerationMode) -> None:
    strategy = operation.as_strategy(mode, path_parameters=_declared(operation, "path", profile.path_parameters),
                                     query=_declared(operation, "query", profile.query))

    @hypothesis_settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                         print_blob=False)
    @given(case=strategy)
    def run(case: Any) -> None:
        _call(tally, profile, case)

    try:
        run()
    except Unsatisfiable:
        # Nothing to break: an operation without parameters or body has no negative cases.
        assert mode == GenerationMode.NEGATIVE, f"no positive case for {operation.label}"


def _cover(tally: Tally, schema: Any, operation: Any, profile: Profile) -> None:
    """Schemathesis' coverage cases: boundary values and each way to break each parameter, deterministic."""
    config = schema.config.generation_for(operation=operation)
    for case in schema.iter_coverage_cases(operation, generation_modes=list(GenerationMode),
                                           generation_config=config):
        for location, values in (("path_parameters", profile.path_parameters), ("query", profile.query)):
            container = getattr(case, location)
            fixed = _declared(operation, "path" if location == "path_parameters" else "query", values)
            if container is not None and fixed:
                container.update(fixed)
        _call(tally, profile, case)


def _declared(operation: Any, location: str, values: dict[str, Any]) -> dict[str, Any] | None:
    names = {p.get("name") for p in operation.definition.raw.get("parameters", []) if p.get("in") == location}
    fixed = {name: value for name, value in values.items() if name in names}
    return fixed or None


def _operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


def _report(tally: Tally) -> str:
    lines = [f"OpenAPI fuzz: {len(tally.operations)} operations, {tally.requests} requests, "
             f"{tally.failed_requests} failing requests, {len(tally.findings)} distinct failures",
             "statuses: " + ", ".join(f"{status}: {count}" for status, count in sorted(tally.statuses.items()))]
    for finding in tally.findings.values():
        lines.append(f"- {finding.operation} [{finding.profile}] {finding.status}: {finding.title}\n"
                     f"    {finding.message.splitlines()[0] if finding.message else ''}\n    {finding.reproduce}")
    return "\n".join(lines)


def test_openapi_fuzz(app: FastAPI, internal_headers: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """Zero 5xx, zero undocumented statuses and zero schema violations across every documented operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tally = Tally()
    try:
        # The app's lifespan runs on schemathesis' event loop thread, where the requests are served.
        with asgi.get_client(app) as client:
            profiles = _profiles(app, internal_headers, _seed_cases(client, internal_headers))
            for operation in _operations(schema):
                tally.operations.add(operation.label)
                for profile in profiles:
                    if not profile.applies(operation.path):
                        continue
                    _cover(tally, schema, operation, profile)
                    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                        _fuzz(tally, operation, profile, mode)
    finally:
        asgi.shutdown_lifespans()
    report = _report(tally)
    with capsys.disabled():
        print("\n" + report)
    assert not tally.findings, report
