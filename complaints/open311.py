"""Open311 GeoReport v2: civic tools list services, submit complaints and read their status.

Every endpoint answers in JSON or XML by its extension (``services.json``,
``services.xml`` ...). Field names, the comma-delimited filters, the w3 date
format and the error shape (an array of {code, description}; ``<errors>`` in
XML) follow the GeoReport v2 specification.
Submitting needs an API key from settings, and so does every bulk read (the
list, or several comma-separated ids): ticket numbers run in sequence, so an
open list would let anyone walk every complaint. One request looked up by its id
is public, and a public answer carries only the public status GeoReport v2
defines: the service, the status, the dates, the agency, a coarse location (the
service window, never the citizen's free-text address) and ``status_notes``
from the staff notes marked public, masked. Internal notes, names, phone and ID
numbers, coordinates and media never appear. Callers with a key also get the
complaint's own words (masked), coordinates and media, never for integrity
reports (who reported bribery is nobody else's business).
"""

import hmac
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from complaints import flows, risk
from complaints.categories import category_label, load_rules
from complaints.clock import app_now, as_utc
from complaints.enums import FINISHED_STATUSES, OPEN_STATUSES, ComplaintCategory, Source
from complaints.models import Complaint, ComplaintCreate
from complaints.service import PUBLIC_NOTE_EVENTS
from service.database import TransactionalRoute
from service.errors import ServiceError
from service.pii import mask_text
from service.texts import text as t

open311_router = APIRouter(route_class=TransactionalRoute, prefix="/open311/v2", tags=["open311"])
KEY_REFUSED = "api_key is missing or invalid"


class Open311Error(BaseModel):
    """One GeoReport v2 error (an answer is a list of them; ``<errors><error>`` in XML)."""

    code: int
    description: str


class Open311Service(BaseModel):
    """A complaint category as a GeoReport service."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Open311Submitted(BaseModel):
    """The answer to a submission."""

    service_request_id: str
    service_notice: str
    account_id: str | None


class Open311Request(BaseModel):
    """A complaint as a GeoReport service request: public fields, more for a keyed caller."""

    service_request_id: str
    status: str
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str
    service_notice: str
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


def _xml(root: str) -> dict[str, Any]:
    return {"schema": {"type": "string", "description": f"the same records as <{root}> XML"}}


def _answers(model: type[BaseModel], root: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"type": "array", "items": model.model_json_schema()}},
                        "application/xml": _xml(root)}}


def documented(success: tuple[type[BaseModel], str, str], *errors: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a GeoReport endpoint: its records, and errors in the GeoReport format."""
    descriptions = {400: "Missing or invalid field", 403: "api_key is missing or invalid",
                    404: "Unknown format, service_code or service_request_id"}
    answers: dict[int | str, dict[str, Any]] = {200: _answers(*success)}
    for status in (*errors, 404):
        answers[status] = _answers(Open311Error, "errors", descriptions[status])
    return answers


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": description}


API_KEY = _query("api_key", "the caller's API key (needed for bulk reads; more fields for keyed callers)")
# The routes read their query and form fields themselves (GeoReport's comma lists and w3 dates), so the spec
# lists them here.
LIST_EXTRA = {"parameters": [
    API_KEY,
    _query("service_request_id", "comma-separated ids; when given every other filter is ignored"),
    _query("service_code", "comma-separated service codes"),
    _query("start_date", "w3 datetime with a timezone"),
    _query("end_date", "w3 datetime with a timezone"),
    _query("status", "open or closed, comma-separated"),
]}
_FORM_FIELDS = ("api_key", "service_code", "lat", "long", "address_string", "address_id", "email", "device_id",
                "account_id", "first_name", "last_name", "phone", "description", "media_url")
SUBMIT_EXTRA = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "properties": {name: {"type": "string"} for name in _FORM_FIELDS},
    "required": ["api_key", "service_code"]}}}}}

FORMATS = ("json", "xml")
# Characters XML 1.0 cannot carry, even escaped; a citizen's text may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def to_xml(items: list[dict[str, Any]], root: str, item: str) -> bytes:
    """Renders a list of flat records the way GeoReport v2 XML does (null fields as empty elements)."""
    top = ET.Element(root)
    for record in items:
        node = ET.SubElement(top, item)
        for key, value in record.items():
            child = ET.SubElement(node, key)
            if value is not None:
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                child.text = _NOT_XML.sub("", text)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, items: list[dict[str, Any]], *, root: str, item: str, status: int = 200) -> Response:
    """Answers a list of records in the requested format."""
    if fmt == "xml":
        return Response(to_xml(items, root, item), status_code=status, media_type="application/xml; charset=utf-8")
    return JSONResponse(items, status_code=status)


def open311_error(status: int, description: str, fmt: str = "json") -> Response:
    """Answers in the GeoReport v2 error format."""
    return respond(fmt, [{"code": status, "description": description}], root="errors", item="error",
                   status=status)


def _unknown_format(fmt: str) -> Response | None:
    return None if fmt in FORMATS else open311_error(404, "format must be json or xml")


def _key_is_valid(request: Request, key: str | None) -> bool:
    keys: list[str] = request.app.state.settings.complaints.open311_api_keys
    return bool(key) and any(hmac.compare_digest(str(key).encode(), k.encode()) for k in keys)


def _w3(moment: datetime | None, timezone: str) -> str | None:
    return as_utc(moment).astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds") if moment else None


def _parse_w3(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timezone missing")
    return parsed


def public_status_notes(complaint: Complaint) -> str | None:
    """The latest staff note marked public, masked (and the citizen's own name with it); internal notes never."""
    notes = [e.text for e in complaint.events if e.is_public and e.kind in PUBLIC_NOTE_EVENTS and e.text]
    return mask_text(notes[-1], names=[complaint.contact_name]) if notes else None


def service_request(complaint: Complaint, request: Request, *, keyed: bool) -> dict[str, Any]:
    """Renders one ticket as a GeoReport v2 service request: public fields, and more for a keyed caller."""
    timezone = str(request.app.state.settings.timezone)
    is_open = risk.still_open(complaint.status)
    detailed = keyed and complaint.category != ComplaintCategory.fees_integrity
    expected = (risk.current_due(complaint) or as_utc(complaint.plan_due)) if is_open else None
    return {
        "service_request_id": complaint.number,
        "status": "open" if is_open else "closed",
        "status_notes": public_status_notes(complaint),
        "service_name": category_label(complaint.category),
        "service_code": complaint.category,
        "description": mask_text(complaint.description, names=[complaint.contact_name]) if detailed else None,
        "agency_responsible": t("complaints", "agency"),
        "service_notice": t("complaints", "open311_notice"),
        "requested_datetime": _w3(complaint.submitted_at, timezone),
        "updated_datetime": _w3(complaint.updated_at, timezone),
        "expected_datetime": _w3(expected, timezone),
        # A coarse location only: the citizen's free text may say where they live or who they are.
        "address": t("complaints", "open311_window", window=complaint.window) if complaint.window else None,
        "address_id": None,
        "zipcode": None,
        "lat": complaint.lat if detailed else None,
        "long": complaint.long if detailed else None,
        "media_url": complaint.media_url if detailed else None,
    }


@open311_router.get("/services.{fmt}", response_model=None,
                    responses=documented((Open311Service, "services", "The services")))
def services(fmt: str) -> Response:
    """Lists the complaint categories as GeoReport services."""
    if (refused := _unknown_format(fmt)) is not None:
        return refused
    rules = load_rules()
    return respond(fmt, [
        {"service_code": category.value, "service_name": category_label(category),
         "description": category_label(category), "metadata": False, "type": "realtime",
         "keywords": ",".join(list(rules.get(category, {}))[:8]), "group": t("complaints", "open311_group")}
        for category in ComplaintCategory
    ], root="services", item="service")


@open311_router.post("/requests.{fmt}", response_model=None, openapi_extra=SUBMIT_EXTRA,
                     responses=documented((Open311Submitted, "service_requests", "Filed"), 400, 403))
async def create_request(fmt: str, request: Request) -> Response:
    """Files a complaint from a form-encoded GeoReport v2 submission."""
    if (refused := _unknown_format(fmt)) is not None:
        return refused
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - any unreadable body is the client's error
        return open311_error(400, "request body must be application/x-www-form-urlencoded", fmt)
    fields = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    if not _key_is_valid(request, fields.get("api_key")):
        return open311_error(403, KEY_REFUSED, fmt)
    code = fields.get("service_code", "").strip()
    if not code:
        return open311_error(400, "service_code is required", fmt)
    if code not in {c.value for c in ComplaintCategory}:
        return open311_error(404, f"service_code {code[:40]} not found", fmt)
    has_point = bool(fields.get("lat")) and bool(fields.get("long"))
    if not (has_point or fields.get("address_string") or fields.get("address_id")):
        return open311_error(400, "a location is required: lat and long, address_string or address_id", fmt)
    if not fields.get("description", "").strip():
        return open311_error(400, "description is required", fmt)
    name = " ".join(p for p in (fields.get("last_name", "").strip(), fields.get("first_name", "").strip()) if p)
    try:
        complaint_in = ComplaintCreate(
            category=ComplaintCategory(code), description=fields["description"],
            location=fields.get("address_string") or fields.get("address_id") or None,
            mobile=fields.get("phone") or None, anonymous=not fields.get("phone"),
            contact_name=name or None, email=fields.get("email") or None,
            lat=float(fields["lat"]) if has_point else None, long=float(fields["long"]) if has_point else None,
            media_url=fields.get("media_url") or None, source=Source.open311,
        )
    except (ValidationError, ValueError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else [{"loc": (), "msg": str(exc)}]
        return respond(fmt, [{"code": 400, "description": f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"}
                             for e in errors], root="errors", item="error", status=400)
    settings = request.app.state.settings
    try:
        async with request.app.state.database.async_session() as db_session:
            complaint, filed = flows.file_complaint(
                db_session=db_session, complaint_in=complaint_in, now=app_now(request.app.state),
                settings=settings.complaints, timezone=settings.timezone)
    except ServiceError as exc:
        return open311_error(400, exc.message, fmt)
    return respond(fmt, [{"service_request_id": filed.number, "service_notice": t("complaints", "open311_notice"),
                          "account_id": None}], root="service_requests", item="request")


@open311_router.get("/requests/{service_request_id}.{fmt}", response_model=None,
                    openapi_extra={"parameters": [API_KEY]},
                    responses=documented((Open311Request, "service_requests", "The request, in a list of one")))
def get_request(service_request_id: str, fmt: str, request: Request) -> Response:
    """Returns one service request (as a one-element array, per the standard); public fields without a key."""
    if (refused := _unknown_format(fmt)) is not None:
        return refused
    keyed = _key_is_valid(request, request.query_params.get("api_key"))
    with request.app.state.database.session() as db_session:
        complaint = db_session.scalar(select(Complaint).where(Complaint.number == service_request_id.strip().upper()))
        if complaint is None:
            return open311_error(404, f"service_request_id {service_request_id[:40]} not found", fmt)
        return respond(fmt, [service_request(complaint, request, keyed=keyed)],
                       root="service_requests", item="request")


@open311_router.get("/requests.{fmt}", response_model=None, openapi_extra=LIST_EXTRA,
                    responses=documented((Open311Request, "service_requests", "The matching requests"), 400, 403))
def list_requests(fmt: str, request: Request) -> Response:
    """Lists service requests filtered by ids, service codes, date range and status (a key is required).

    Without a key only one id may be asked for, and it is answered like the single lookup.
    """
    if (refused := _unknown_format(fmt)) is not None:
        return refused
    params = request.query_params
    settings = request.app.state.settings.complaints
    keyed = _key_is_valid(request, params.get("api_key"))
    ids = [i.strip().upper() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if not keyed and len(set(ids)) != 1:
        return open311_error(403, KEY_REFUSED, fmt)
    query = select(Complaint)
    if ids:
        # The standard: when ids are given, every other filter is ignored.
        query = query.where(Complaint.number.in_(ids[:settings.open311_max_results]))
    else:
        codes = [c for c in params.get("service_code", "").split(",") if c]
        unknown = [c for c in codes if c not in {cat.value for cat in ComplaintCategory}]
        if unknown:
            return open311_error(404, f"service_code {unknown[0][:40]} not found", fmt)
        statuses = [s for s in params.get("status", "").split(",") if s]
        if any(s not in ("open", "closed") for s in statuses):
            return open311_error(400, "status must be open or closed", fmt)
        try:
            start = _parse_w3(params["start_date"]) if params.get("start_date") else None
            end = _parse_w3(params["end_date"]) if params.get("end_date") else None
        except ValueError:
            return open311_error(400, "start_date and end_date must be w3 datetimes with a timezone", fmt)
        if start is None and end is None:
            start = app_now(request.app.state) - timedelta(days=settings.open311_default_days)
        if start is not None and end is not None and start > end:
            return open311_error(400, "start_date is after end_date", fmt)
        if codes:
            query = query.where(Complaint.category.in_(codes))
        if start is not None:
            query = query.where(Complaint.submitted_at >= as_utc(start))
        if end is not None:
            query = query.where(Complaint.submitted_at <= as_utc(end))
        if len(set(statuses)) == 1:
            wanted = OPEN_STATUSES if statuses[0] == "open" else FINISHED_STATUSES
            query = query.where(Complaint.status.in_([str(s) for s in wanted]))
    query = query.order_by(Complaint.submitted_at.desc()).limit(settings.open311_max_results)
    with request.app.state.database.session() as db_session:
        found = [service_request(c, request, keyed=keyed) for c in db_session.scalars(query)]
    return respond(fmt, found, root="service_requests", item="request")
