"""Booking rules that need no database: working days, opening hours, lead time, horizon, labels.

A service's opening hours come from the catalogue (faq/catalogue.yml, the same
field the FAQ words for answers): its working-day hours apply on every open day
of the calendar (make-up workdays included), its Saturday and Sunday hours on
ordinary weekend days, and nothing on holidays. A service the catalogue gives no
weekly hours is open during its office's hours (offices.yml) on working days.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appointments.catalogue import ServiceCatalogue
from appointments.enums import DayPart, DayStatus, SlotRefusal
from appointments.offices import Office, OfficeDirectory, load_directory
from appointments.settings import AppointmentSettings
from appointments.workdays import CalendarOverrides, DayVerdict, day_verdict, load_overrides
from faq.opening_hours import Ranges, WeeklyHours
from service.texts import load_texts, text

PART_RANGES = {DayPart.morning: (time(0, 0), time(12, 0)), DayPart.afternoon: (time(12, 0), time(18, 0)),
               DayPart.evening: (time(18, 0), time(23, 59))}


@dataclass(frozen=True)
class AppointmentRules:
    """Everything that decides whether a slot can be booked, apart from how full it is."""

    directory: OfficeDirectory
    overrides: CalendarOverrides
    catalogue: ServiceCatalogue
    zone: ZoneInfo
    alternatives: int = 3

    @classmethod
    def from_settings(cls, settings: AppointmentSettings, timezone: str) -> "AppointmentRules":
        """Loads offices, calendar overrides and catalogue from the configured files."""
        return cls(load_directory(settings.offices_path), load_overrides(settings.calendar_overrides_path),
                   ServiceCatalogue(settings.catalogue_path), ZoneInfo(timezone), settings.alternatives)

    def now(self) -> datetime:
        """The local wall-clock time of the service centre, without tzinfo."""
        return datetime.now(self.zone).replace(tzinfo=None)

    def day_verdict(self, day: date) -> DayVerdict:
        """Open, weekend or holiday by the calendar (provisional in a year not yet published)."""
        return day_verdict(day, self.overrides)

    def service_hours(self, office: Office, service_id: str) -> WeeklyHours:
        """A service's weekly hours: the catalogue's, else its office's hours on working days."""
        return self.catalogue.hours(service_id) or WeeklyHours(workdays=office.hours)

    def hours_on(self, office: Office, service_id: str, day: date) -> Ranges:
        """When a service is open on a date (nothing on holidays)."""
        verdict = self.day_verdict(day)
        hours = self.service_hours(office, service_id)
        if verdict.status is DayStatus.open:
            return hours.workdays
        if verdict.status is DayStatus.weekend:
            return hours.ranges("saturday" if day.weekday() == 5 else "sunday")
        return ()

    def service_verdict(self, office: Office, service_id: str, day: date) -> DayVerdict:
        """The calendar's verdict, open on an ordinary weekend day the service works (周六上午 for ID cards)."""
        verdict = self.day_verdict(day)
        if verdict.status is DayStatus.weekend and self.hours_on(office, service_id, day):
            return replace(verdict, status=DayStatus.open)
        return verdict

    def slot_starts(self, office: Office, service_id: str, day: date) -> list[time]:
        """Start times of a service's slots on a date (none when it is closed)."""
        return self.directory.slot_starts(replace(office, hours=self.hours_on(office, service_id, day)))

    def slot_end(self, start: time) -> time:
        """When a slot starting at start ends."""
        return (datetime.combine(date.min, start) + timedelta(minutes=self.directory.slot_minutes)).time()

    def last_day(self, now: datetime) -> date:
        """The last day of the booking horizon (today is day 0)."""
        return now.date() + timedelta(days=self.directory.horizon_days)

    def refusal(self, office: Office, service_id: str, day: date, start: time, now: datetime) -> SlotRefusal | None:
        """Why a slot of a service on an open day cannot be booked now, or None."""
        moment = datetime.combine(day, start)
        if moment <= now:
            return SlotRefusal.past
        if day > self.last_day(now):
            return SlotRefusal.beyond_horizon
        if start not in self.slot_starts(office, service_id, day):
            inside = any(opening <= start < closing for opening, closing in self.hours_on(office, service_id, day))
            return SlotRefusal.not_a_slot if inside else SlotRefusal.outside_hours
        if moment < now + timedelta(minutes=self.directory.lead_minutes):
            return SlotRefusal.too_soon
        return None

    def candidate_days(self, now: datetime) -> list[date]:
        """Every day from today to the end of the booking horizon."""
        return [now.date() + timedelta(days=offset) for offset in range(self.directory.horizon_days + 1)]

    def day_label(self, day: date) -> str:
        """11月25日（周三）."""
        return text("appointments", "day_label", month=day.month, day=day.day,
                    weekday=load_texts("appointments")["weekdays"][day.weekday()])

    def slot_label(self, day: date, start: time) -> str:
        """11月25日（周三）09:30-10:00."""
        return text("appointments", "slot_label", month=day.month, day=day.day,
                    weekday=load_texts("appointments")["weekdays"][day.weekday()],
                    start=start.strftime("%H:%M"), end=self.slot_end(start).strftime("%H:%M"))

    def closed_reason(self, day: date, verdict: DayVerdict) -> str:
        """The citizen-facing sentence for a closed day."""
        reasons = load_texts("appointments")["reasons"]
        if verdict.status is DayStatus.holiday:
            names = load_texts("appointments")["holiday_names"]
            name = names.get(verdict.holiday_name or "", verdict.holiday_name)
            if name:
                return reasons["holiday"].format(day=self.day_label(day), holiday=name)
            return reasons["holiday_unnamed"].format(day=self.day_label(day))
        return reasons[verdict.status.value].format(day=self.day_label(day))

    def booking_window(self, now: datetime) -> str:
        """目前可预约未来14天内（至12月15日）的时段。"""
        last = self.last_day(now)
        return text("appointments", "booking_window", horizon=self.directory.horizon_days,
                    last=text("appointments", "date_label", month=last.month, day=last.day))

    def horizon_reason(self, day: date, now: datetime) -> str:
        """The sentence for a date past the booking horizon, saying how far ahead booking is open."""
        return load_texts("appointments")["reasons"]["beyond_horizon"].format(
            day=self.day_label(day), window=self.booking_window(now))

    def closed_day(self, office: Office, service_id: str, day: date, now: datetime) -> tuple[str, str] | None:
        """Why no slot of a service can be booked on a date at all (reason code, sentence); None when it can.

        A date past the horizon says how far ahead booking is open, after the
        reason the date is closed when it is closed too.
        """
        verdict = self.service_verdict(office, service_id, day)
        if day > self.last_day(now):
            if verdict.is_open:
                return SlotRefusal.beyond_horizon.value, self.horizon_reason(day, now)
            return SlotRefusal.beyond_horizon.value, self.closed_reason(day, verdict) + self.booking_window(now)
        if not verdict.is_open:
            return verdict.status.value, self.closed_reason(day, verdict)
        return None

    def refusal_reason(self, office: Office, service_id: str, day: date, refusal: SlotRefusal,
                       now: datetime) -> str:
        """The citizen-facing sentence for a refused slot."""
        if refusal is SlotRefusal.beyond_horizon:
            return self.horizon_reason(day, now)
        ranges = self.hours_on(office, service_id, day) or self.service_hours(office, service_id).workdays
        hours = "、".join(f"{a.strftime('%H:%M')}-{b.strftime('%H:%M')}" for a, b in ranges)
        return load_texts("appointments")["reasons"][refusal.value].format(
            lead=self.directory.lead_minutes, hours=hours, minutes=self.directory.slot_minutes)

    def calendar_notice(self, day: date) -> str | None:
        """The warning for a date whose year's holiday schedule is not published yet, or None."""
        if not self.day_verdict(day).provisional:
            return None
        return text("appointments", "unpublished_year_notice", year=day.year)


def in_part(start: time, part: DayPart | None) -> bool:
    """True when a slot start falls in the asked part of the day (or no part was asked)."""
    if part is None:
        return True
    low, high = PART_RANGES[part]
    return low <= start < high
