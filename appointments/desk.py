"""The staff desk of the service centre: a day's bookings per window with their counts, search, CSV rows.

Staff see mobiles masked (service.pii.mask_mobile) everywhere here; the full
number is only ever compared in the database, never returned.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from appointments import service
from appointments.citizen_identity import is_code_shaped, normalise_code
from appointments.enums import BookingStatus
from appointments.models import Booking
from appointments.offices import Office
from appointments.schedule import AppointmentRules
from service.errors import NotFoundError, ServiceError
from service.pii import MOBILE_PATTERN, mask_mobile, normalise_mobile
from service.texts import load_texts

# The counts shown per window, in order: still expected, arrived, did not come, and cancelled.
COUNTED = (BookingStatus.booked, BookingStatus.checked_in, BookingStatus.no_show, BookingStatus.cancelled)
SEARCH_LIMIT = 50


def office_of(rules: AppointmentRules, office_id: str | None) -> Office:
    """The office asked for (the first one by default), or 404."""
    if office_id is None:
        return rules.directory.offices[0]
    office = next((o for o in rules.directory.offices if o.id == office_id), None)
    if office is None:
        raise NotFoundError("unknown office", code="office_not_found", details={"office_id": office_id})
    return office


def booking_row(rules: AppointmentRules, booking: Booking) -> dict[str, Any]:
    """One booking as staff see it: times, service, name, masked mobile, code, status."""
    office = next((o for o in rules.directory.offices if o.id == booking.office_id), None)
    window = next((w for w in office.windows if w.id == booking.window_id), None) if office else None
    return {"code": booking.code, "day": booking.day, "start": booking.start.strftime("%H:%M"),
            "end": rules.slot_end(booking.start).strftime("%H:%M"), "office_id": booking.office_id,
            "office_name": office.name if office else booking.office_id, "window_id": booking.window_id,
            "window_name": window.name if window else booking.window_id, "service_id": booking.service_id,
            "service_name": rules.catalogue.name(booking.service_id), "name": booking.name,
            "mobile_masked": mask_mobile(booking.mobile), "status": booking.status}


def counts_of(rows: list[dict[str, Any]]) -> dict[str, int]:
    """How many bookings are in each status, and how many are not cancelled."""
    counts = {status.value: sum(row["status"] == status for row in rows) for status in COUNTED}
    counts["total"] = len(rows) - counts[BookingStatus.cancelled]
    return counts


def day_sheet(*, db_session: Session, rules: AppointmentRules, office_id: str | None, day: date) -> dict[str, Any]:
    """A day's bookings of an office, one table per window, with counts per window and for the office."""
    office = office_of(rules, office_id)
    rows = [booking_row(rules, b) for b in service.get_day_bookings(db_session=db_session, office_id=office.id,
                                                                      day=day)]
    windows = []
    for window in office.windows:
        bookings = [row for row in rows if row["window_id"] == window.id]
        windows.append({"window_id": window.id, "window_name": window.name, "bookings": bookings,
                        "counts": counts_of(bookings)})
    return {"office_id": office.id, "office_name": office.name, "day": day, "windows": windows,
            "counts": counts_of(rows)}


@dataclass(frozen=True)
class SearchTerm:
    """What a desk search looks for: a booking code, a whole mobile, or a mobile's last 4 digits."""

    kind: Literal["code", "mobile", "mobile_last4"]
    value: str

    @property
    def shown(self) -> str:
        """The term as the page may repeat it: a whole mobile only masked."""
        return mask_mobile(self.value) if self.kind == "mobile" else self.value


def read_search_term(query: str) -> SearchTerm:
    """Reads what staff typed: a 6-character code, an 11-digit mobile or its last 4 digits; 422 otherwise."""
    code = normalise_code(query)
    if is_code_shaped(code):
        return SearchTerm("code", code)
    digits = normalise_mobile(query)
    if len(digits) == 4 and digits.isdigit():
        return SearchTerm("mobile_last4", digits)
    if MOBILE_PATTERN.match(digits):
        return SearchTerm("mobile", digits)
    raise ServiceError(load_texts("appointments.console")["search_invalid"], code="invalid_search",
                       status_code=422)


def search(*, db_session: Session, rules: AppointmentRules, term: SearchTerm, office_id: str | None,
           day: date) -> list[dict[str, Any]]:
    """Finds bookings: a code on any day in any office (it is unique); a mobile on the day, in the office."""
    query = select(Booking)
    if term.kind == "code":
        query = query.where(Booking.code == term.value)
    else:
        office = office_of(rules, office_id)
        query = query.where(Booking.office_id == office.id, Booking.day == day)
        # The last 4 are digits only (checked above), so they cannot carry a LIKE wildcard.
        query = query.where(Booking.mobile == term.value if term.kind == "mobile"
                            else Booking.mobile.like(f"%{term.value}"))
    bookings = db_session.scalars(query.order_by(Booking.day, Booking.start, Booking.id).limit(SEARCH_LIMIT))
    return [booking_row(rules, b) for b in bookings]


def parse_code(code: str) -> str:
    """A booking code from a path, normalised; 422 when it cannot be one."""
    normalised = normalise_code(code)
    if not is_code_shaped(normalised):
        raise ServiceError(load_texts("appointments.console")["code_invalid"], code="invalid_code", status_code=422)
    return normalised


def _cell(value: Any) -> str:
    # Spreadsheets run cells starting with = + - @ as formulas.
    cell = str(value)
    return f"'{cell}" if cell[:1] in {"=", "+", "-", "@", "\t", "\r"} else cell


def csv_rows(sheet: dict[str, Any]) -> list[list[str]]:
    """The day sheet as CSV rows under the header, each cell safe from formula injection."""
    texts = load_texts("appointments")
    rows = [list(texts["csv_header"])]
    for window in sheet["windows"]:
        for row in window["bookings"]:
            rows.append([_cell(v) for v in (
                sheet["day"].isoformat(), f"{row['start']}-{row['end']}", window["window_name"],
                row["service_name"], row["name"], row["mobile_masked"], row["code"],
                texts["status_names"][row["status"]])])
    return rows
