"""Statuses and reason codes of the appointments domain."""

from enum import StrEnum


class BookingStatus(StrEnum):
    """Where a booking stands."""

    booked = "booked"
    cancelled = "cancelled"
    checked_in = "checked_in"
    no_show = "no_show"


class DayPart(StrEnum):
    """A part of the day a citizen can ask for instead of an exact time."""

    morning = "morning"
    afternoon = "afternoon"
    evening = "evening"


class DayStatus(StrEnum):
    """Why a date is open or closed for appointments."""

    open = "open"
    weekend = "weekend"
    holiday = "holiday"
    uncovered = "calendar_not_published"


class SlotRefusal(StrEnum):
    """Why a requested date or time cannot be booked."""

    past = "past"
    too_soon = "too_soon"
    beyond_horizon = "beyond_horizon"
    outside_hours = "outside_hours"
    full = "full"
    not_a_slot = "not_a_slot"


class WhenProblem(StrEnum):
    """Why a Chinese date/time expression could not be turned into a bookable time."""

    unrecognised = "unrecognised"
    ambiguous = "ambiguous"
    past = "past"
    invalid_date = "invalid_date"
