"""Booking rules that need no database: working days, opening hours, lead time, horizon, labels."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appointments.catalogue import ServiceCatalogue
from appointments.enums import DayPart, DayStatus, SlotRefusal
from appointments.offices import Office, OfficeDirectory, load_directory
from appointments.settings import AppointmentSettings
from appointments.workdays import CalendarOverrides, DayVerdict, day_verdict, load_overrides
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
        """Open, weekend, holiday or not yet covered by any calendar."""
        return day_verdict(day, self.overrides)

    def slot_end(self, start: time) -> time:
        """When a slot starting at start ends."""
        return (datetime.combine(date.min, start) + timedelta(minutes=self.directory.slot_minutes)).time()

    def refusal(self, office: Office, day: date, start: time, now: datetime) -> SlotRefusal | None:
        """Why a slot on an open day cannot be booked now, or None."""
        moment = datetime.combine(day, start)
        if moment <= now:
            return SlotRefusal.past
        if day > now.date() + timedelta(days=self.directory.horizon_days):
            return SlotRefusal.beyond_horizon
        if start not in self.directory.slot_starts(office):
            inside = any(opening <= start < closing for opening, closing in office.hours)
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

    def refusal_reason(self, office: Office, refusal: SlotRefusal) -> str:
        """The citizen-facing sentence for a refused slot."""
        hours = "、".join(f"{a.strftime('%H:%M')}-{b.strftime('%H:%M')}" for a, b in office.hours)
        return load_texts("appointments")["reasons"][refusal.value].format(
            lead=self.directory.lead_minutes, horizon=self.directory.horizon_days, hours=hours,
            minutes=self.directory.slot_minutes)


def in_part(start: time, part: DayPart | None) -> bool:
    """True when a slot start falls in the asked part of the day (or no part was asked)."""
    if part is None:
        return True
    low, high = PART_RANGES[part]
    return low <= start < high
