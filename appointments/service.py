"""Database work of the appointments domain: availability, atomic booking, lookup, cancel, reschedule.

Capacity lives in one counter row per (office, service, day, slot). A booking
increments it with a conditional UPDATE (``booked < capacity``), which takes
the row lock on PostgreSQL and runs inside SQLite's BEGIN IMMEDIATE write lock,
so two requests can never both take the last place. Service functions flush and
never commit: the request owns the transaction.
"""

from datetime import date, datetime, time

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appointments.citizen_identity import (
    id_number_problem,
    is_code_shaped,
    mobile_problem,
    new_confirmation_code,
)
from appointments.enums import BookingStatus, DayPart, SlotRefusal
from appointments.models import AppointmentSlot, Booking, BookingCreate, BookingRead, SlotRead
from appointments.offices import Office
from appointments.schedule import AppointmentRules, in_part
from service.attempts import LookupGuard, too_many_attempts
from service.errors import ConflictError, NotFoundError, ServiceError
from service.pii import mask_id_number, mask_mobile
from service.texts import load_texts

ACTIVE = (BookingStatus.booked, BookingStatus.checked_in, BookingStatus.no_show)


def office_for(rules: AppointmentRules, service_id: str) -> Office:
    """The office that handles a service, or a clear refusal."""
    office = rules.directory.office_for(service_id)
    if office is None:
        raise ServiceError(load_texts("appointments")["reasons"]["service_not_bookable"],
                           code="service_not_bookable", details={"service_id": service_id})
    return office


def booked_counts(*, db_session: Session, office_id: str, service_id: str,
                  first: date, last: date) -> dict[tuple[date, time], int]:
    """How many places are taken per slot of a service between two days."""
    rows = db_session.execute(
        select(AppointmentSlot.day, AppointmentSlot.start, AppointmentSlot.booked).where(
            AppointmentSlot.office_id == office_id, AppointmentSlot.service_id == service_id,
            AppointmentSlot.day >= first, AppointmentSlot.day <= last)
    )
    return {(row.day, row.start): row.booked for row in rows}


def free_slots(*, db_session: Session, rules: AppointmentRules, service_id: str, now: datetime,
               days: list[date] | None = None) -> list[SlotRead]:
    """Every bookable slot with places left, on the given days (default: the whole horizon)."""
    office = office_for(rules, service_id)
    days = days if days is not None else rules.candidate_days(now)
    if not days:
        return []
    capacity = office.capacity_for(service_id)
    counts = booked_counts(db_session=db_session, office_id=office.id, service_id=service_id,
                           first=min(days), last=max(days))
    slots = []
    for day in sorted(days):
        for start in rules.slot_starts(office, service_id, day):
            remaining = capacity - counts.get((day, start), 0)
            if remaining > 0 and rules.refusal(office, service_id, day, start, now) is None:
                slots.append(SlotRead(day=day, start=start.strftime("%H:%M"),
                                      end=rules.slot_end(start).strftime("%H:%M"),
                                      remaining=remaining, label=rules.slot_label(day, start)))
    return slots


def nearest_free(*, db_session: Session, rules: AppointmentRules, service_id: str, now: datetime,
                 day: date, start: time | None = None, part: DayPart | None = None) -> list[SlotRead]:
    """The free slots within the horizon closest to the asked time, those in the asked part of the day first,
    in time order."""
    target_time = start or {DayPart.afternoon: time(14, 0), DayPart.evening: time(17, 0)}.get(part, time(9, 0))
    target = datetime.combine(day, target_time)
    slots = free_slots(db_session=db_session, rules=rules, service_id=service_id, now=now)
    slots.sort(key=lambda slot: (not in_part(time.fromisoformat(slot.start), part),
                                 abs((datetime.combine(slot.day, time.fromisoformat(slot.start))
                                      - target).total_seconds())))
    chosen = slots[: rules.alternatives]
    return sorted(chosen, key=lambda slot: (slot.day, slot.start))


def availability(*, db_session: Session, rules: AppointmentRules, service_id: str, day: date,
                 now: datetime, start: time | None = None, part: DayPart | None = None) -> dict:
    """Whether the asked day/time is bookable, the day's free slots, why not, and the nearest alternatives."""
    office = office_for(rules, service_id)
    verdict = rules.service_verdict(office, service_id, day)
    answer: dict = {"service_id": service_id, "service_name": rules.catalogue.name(service_id),
                    "day": day, "day_label": rules.day_label(day), "day_status": verdict.status,
                    "available": False, "reason_code": None, "reason": None, "slots": [], "alternatives": [],
                    "notice": rules.calendar_notice(day)}
    if closed := rules.closed_day(office, service_id, day, now):
        answer.update(reason_code=closed[0], reason=closed[1])
    else:
        day_slots = [slot for slot in free_slots(db_session=db_session, rules=rules, service_id=service_id,
                                                 now=now, days=[day])
                     if in_part(time.fromisoformat(slot.start), part)]
        answer["slots"] = day_slots
        if start is not None:
            refusal = rules.refusal(office, service_id, day, start, now)
            if refusal is None and not any(slot.start == start.strftime("%H:%M") for slot in day_slots):
                refusal = SlotRefusal.full
            if refusal is None:
                answer["available"] = True
            else:
                answer.update(reason_code=refusal.value,
                              reason=rules.refusal_reason(office, service_id, day, refusal, now))
        elif day_slots:
            answer["available"] = True
        else:
            reasons = load_texts("appointments")
            part_name = reasons["parts"][part.value] if part else ""
            answer.update(reason_code="no_free_slot",
                          reason=reasons["reasons"]["no_slot_in_part"].format(day=rules.day_label(day),
                                                                              part=part_name))
    if not answer["available"]:
        answer["alternatives"] = nearest_free(db_session=db_session, rules=rules, service_id=service_id,
                                              now=now, day=day, start=start, part=part)
    return answer



def _refuse_slot(rules: AppointmentRules, office: Office, service_id: str, day: date, start: time,
                 now: datetime) -> None:
    """Raises with the citizen-facing reason when a slot cannot be booked, whatever its fill."""
    if closed := rules.closed_day(office, service_id, day, now):
        raise ServiceError(closed[1], code=closed[0], details={"day": day.isoformat()})
    refusal = rules.refusal(office, service_id, day, start, now)
    if refusal is not None:
        raise ServiceError(rules.refusal_reason(office, service_id, day, refusal, now), code=refusal.value,
                           details={"day": day.isoformat(), "start": start.strftime("%H:%M")})


def _take_place(*, db_session: Session, office: Office, service_id: str, day: date, start: time) -> int | None:
    """Takes one place of a slot atomically; returns the slot id, or None when it is full."""
    values = {"office_id": office.id, "service_id": service_id, "day": day, "start": start, "booked": 0}
    dialect = db_session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db_session.execute(insert(AppointmentSlot).values(**values).on_conflict_do_nothing(
        index_elements=["office_id", "service_id", "day", "start"]))
    taken = db_session.execute(
        update(AppointmentSlot)
        .where(AppointmentSlot.office_id == office.id, AppointmentSlot.service_id == service_id,
               AppointmentSlot.day == day, AppointmentSlot.start == start,
               AppointmentSlot.booked < office.capacity_for(service_id))
        .values(booked=AppointmentSlot.booked + 1)
        .returning(AppointmentSlot.id)
    ).scalar_one_or_none()
    return taken


def _release_place(*, db_session: Session, slot_id: int) -> None:
    """Gives a place of a slot back."""
    db_session.execute(update(AppointmentSlot).where(AppointmentSlot.id == slot_id, AppointmentSlot.booked > 0)
                       .values(booked=AppointmentSlot.booked - 1))


def _quietest_window(*, db_session: Session, office: Office, service_id: str, slot_id: int) -> str:
    """The window handling the service with the fewest bookings in this slot."""
    windows = office.windows_for(service_id)
    loads = dict(db_session.execute(
        select(Booking.window_id, func.count()).where(Booking.slot_id == slot_id, Booking.status.in_(ACTIVE))
        .group_by(Booking.window_id)).all())
    return min(windows, key=lambda window: loads.get(window.id, 0)).id


def _full_error(rules: AppointmentRules, office: Office, service_id: str, day: date, start: time,
                db_session: Session, now: datetime) -> ServiceError:
    alternatives = nearest_free(db_session=db_session, rules=rules, service_id=service_id, now=now,
                                day=day, start=start)
    return ConflictError(rules.refusal_reason(office, service_id, day, SlotRefusal.full, now), code="full",
                         details={"alternatives": [slot.model_dump(mode="json") for slot in alternatives]})


def get_by_idempotency_key(*, db_session: Session, key: str | None) -> Booking | None:
    """Finds the booking a retried request already made."""
    if not key:
        return None
    return db_session.scalar(select(Booking).where(Booking.idempotency_key == key))


def book_slot(*, db_session: Session, rules: AppointmentRules, data: BookingCreate, now: datetime) -> Booking:
    """Books one place atomically; a retry with the same idempotency key returns the first booking."""
    existing = get_by_idempotency_key(db_session=db_session, key=data.idempotency_key)
    if existing is not None:
        return existing
    office = office_for(rules, data.service_id)
    reason = mobile_problem(data.mobile)
    if reason:
        raise ServiceError(load_texts("appointments")["mobile_reasons"][reason], code=reason)
    if data.id_number and (reason := id_number_problem(data.id_number)):
        raise ServiceError(load_texts("appointments")["id_number_reasons"][reason], code=reason)
    _refuse_slot(rules, office, data.service_id, data.day, data.start, now)
    for _attempt in range(5):
        savepoint = db_session.begin_nested()
        try:
            slot_id = _take_place(db_session=db_session, office=office, service_id=data.service_id,
                                  day=data.day, start=data.start)
            if slot_id is None:
                savepoint.rollback()
                existing = get_by_idempotency_key(db_session=db_session, key=data.idempotency_key)
                if existing is not None:
                    return existing
                raise _full_error(rules, office, data.service_id, data.day, data.start, db_session, now)
            booking = Booking(
                code=new_confirmation_code(), slot_id=slot_id, office_id=office.id,
                window_id=_quietest_window(db_session=db_session, office=office, service_id=data.service_id,
                                           slot_id=slot_id),
                service_id=data.service_id, day=data.day, start=data.start, name=data.name,
                mobile=data.mobile, status=BookingStatus.booked, idempotency_key=data.idempotency_key,
                id_number_masked=mask_id_number(data.id_number) if data.id_number else None,
                conversation_id=data.conversation_id,
            )
            db_session.add(booking)
            db_session.flush()
            savepoint.commit()
            return booking
        except IntegrityError:
            savepoint.rollback()
            existing = get_by_idempotency_key(db_session=db_session, key=data.idempotency_key)
            if existing is not None:
                return existing
            active = db_session.scalar(select(Booking).where(
                Booking.mobile == data.mobile, Booking.service_id == data.service_id,
                Booking.status == BookingStatus.booked))
            if active is not None:
                raise ConflictError(load_texts("appointments")["reasons"]["active_booking_exists"].format(
                    code=active.code), code="active_booking_exists", details={"code": active.code}) from None
            # Otherwise two codes collided: draw again.
    raise ConflictError("could not allocate a confirmation code", code="code_exhausted")


def get_by_code(*, db_session: Session, code: str, mobile_last4: str, lock: bool = False) -> Booking:
    """Finds a booking by its code, checked against the last 4 digits of its mobile."""
    not_found = NotFoundError(load_texts("appointments")["errors"]["booking_not_found"], code="booking_not_found")
    if not is_code_shaped(code):
        raise not_found
    query = select(Booking).where(Booking.code == code)
    if lock:
        query = query.with_for_update()
    booking = db_session.scalar(query)
    # The same answer for an unknown code and a wrong mobile: codes cannot be probed.
    if booking is None or booking.mobile[-4:] != mobile_last4:
        raise not_found
    return booking


def verify_code(*, db_session: Session, guard: LookupGuard, code: str, mobile_last4: str,
                requester: str) -> ServiceError | None:
    """Checks code and digits under the guessing limits; returns the refusal (429 or 404), None when they match.

    The refusal is returned, not raised, so the session keeps the failure it
    counted: the caller leaves the session, then raises.
    """
    wait = guard.wait(code, requester)
    if wait:
        return too_many_attempts(wait)
    try:
        get_by_code(db_session=db_session, code=code, mobile_last4=mobile_last4)
    except NotFoundError as not_found:
        guard.failed(code, requester)
        return not_found
    guard.succeeded(code, requester)
    return None


def _require_booked(booking: Booking, operation: str) -> None:
    if booking.status != BookingStatus.booked:
        texts = load_texts("appointments")
        raise ConflictError(texts["errors"]["booking_not_active"].format(
            status=texts["status_names"][booking.status], operation=texts["operations"][operation]),
            code="booking_not_active", details={"status": booking.status})


def cancel_booking(*, db_session: Session, booking: Booking) -> Booking:
    """Cancels a booking and frees its place."""
    _require_booked(booking, "cancel")
    booking.status = BookingStatus.cancelled
    _release_place(db_session=db_session, slot_id=booking.slot_id)
    db_session.flush()
    return booking


def reschedule_booking(*, db_session: Session, rules: AppointmentRules, booking: Booking, day: date,
                       start: time, now: datetime) -> Booking:
    """Moves a booking to another slot atomically, keeping its code."""
    _require_booked(booking, "reschedule")
    if (booking.day, booking.start) == (day, start):
        return booking
    office = office_for(rules, booking.service_id)
    _refuse_slot(rules, office, booking.service_id, day, start, now)
    slot_id = _take_place(db_session=db_session, office=office, service_id=booking.service_id, day=day,
                          start=start)
    if slot_id is None:
        raise _full_error(rules, office, booking.service_id, day, start, db_session, now)
    _release_place(db_session=db_session, slot_id=booking.slot_id)
    booking.slot_id, booking.day, booking.start = slot_id, day, start
    booking.window_id = _quietest_window(db_session=db_session, office=office, service_id=booking.service_id,
                                         slot_id=slot_id)
    db_session.flush()
    return booking


def set_attendance(*, db_session: Session, code: str, status: BookingStatus) -> Booking:
    """Staff marks a booking checked in or no-show."""
    booking = db_session.scalar(select(Booking).where(Booking.code == code).with_for_update())
    if booking is None:
        raise NotFoundError(load_texts("appointments")["errors"]["booking_not_found"], code="booking_not_found")
    _require_booked(booking, "check_in" if status == BookingStatus.checked_in else "no_show")
    booking.status = status
    db_session.flush()
    return booking


def get_day_bookings(*, db_session: Session, office_id: str, day: date) -> list[Booking]:
    """A day's bookings in an office, by time and window."""
    return list(db_session.scalars(select(Booking).where(Booking.office_id == office_id, Booking.day == day)
                                   .order_by(Booking.start, Booking.window_id, Booking.id)))


def to_read(rules: AppointmentRules, booking: Booking) -> BookingRead:
    """The citizen-facing view of a booking (mobile masked)."""
    office = office_for(rules, booking.service_id)
    window = next((w for w in office.windows if w.id == booking.window_id), None)
    return BookingRead(
        code=booking.code, status=BookingStatus(booking.status),
        status_name=load_texts("appointments")["status_names"][booking.status], service_id=booking.service_id,
        service_name=rules.catalogue.name(booking.service_id), office_name=office.name,
        office_address=office.address, window_id=booking.window_id,
        window_name=window.name if window else booking.window_id, day=booking.day,
        start=booking.start.strftime("%H:%M"), end=rules.slot_end(booking.start).strftime("%H:%M"),
        label=rules.slot_label(booking.day, booking.start), name=booking.name,
        mobile_masked=mask_mobile(booking.mobile), id_number_masked=booking.id_number_masked,
        materials=rules.catalogue.materials(booking.service_id),
    )
