"""The service centre's halls, windows, opening hours and capacities, read from offices.yml."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Window:
    """A counter in a hall that handles some services."""

    id: str
    name: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Office:
    """A hall with its opening hours, windows and per-service capacity."""

    id: str
    name: str
    address: str
    hours: tuple[tuple[time, time], ...]
    windows: tuple[Window, ...]
    capacity: dict[str, int] = field(hash=False)

    def capacity_for(self, service_id: str) -> int:
        """Citizens one slot takes for a service."""
        return int(self.capacity.get(service_id, self.capacity.get("default", 1)))

    def windows_for(self, service_id: str) -> list[Window]:
        """Windows that handle a service."""
        return [window for window in self.windows if service_id in window.services]


@dataclass(frozen=True)
class OfficeDirectory:
    """All offices plus the booking rules shared by them."""

    slot_minutes: int
    horizon_days: int
    lead_minutes: int
    offices: tuple[Office, ...]

    def office_for(self, service_id: str) -> Office | None:
        """The office that handles a service, or None when it is not bookable."""
        for office in self.offices:
            if office.windows_for(service_id):
                return office
        return None

    def bookable_services(self) -> list[str]:
        """Every service id some window handles, in configuration order."""
        seen: dict[str, None] = {}
        for office in self.offices:
            for window in office.windows:
                for service_id in window.services:
                    seen.setdefault(service_id, None)
        return list(seen)

    def slot_starts(self, office: Office) -> list[time]:
        """Start times of a day's slots in an office (same on every working day)."""
        starts = []
        step = timedelta(minutes=self.slot_minutes)
        for opening, closing in office.hours:
            cursor = datetime.combine(date.min, opening)
            end = datetime.combine(date.min, closing)
            while cursor + step <= end:
                starts.append(cursor.time())
                cursor += step
        return starts


def _clock(value: str) -> time:
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


def parse_directory(raw: dict) -> OfficeDirectory:
    """Builds the directory from the YAML structure, refusing a service handled by two offices."""
    offices = []
    owner: dict[str, str] = {}
    for item in raw["offices"]:
        windows = tuple(Window(str(w["id"]), str(w["name"]), tuple(w["services"])) for w in item["windows"])
        for window in windows:
            for service_id in window.services:
                if owner.setdefault(service_id, item["id"]) != item["id"]:
                    raise ValueError(f"service {service_id} is handled by two offices")
        offices.append(Office(
            id=str(item["id"]), name=str(item["name"]), address=str(item.get("address", "")),
            hours=tuple((_clock(start), _clock(end)) for start, end in item["hours"]),
            windows=windows, capacity={str(k): int(v) for k, v in item.get("capacity", {}).items()},
        ))
    return OfficeDirectory(
        slot_minutes=int(raw["slot_minutes"]), horizon_days=int(raw["horizon_days"]),
        lead_minutes=int(raw["lead_minutes"]), offices=tuple(offices),
    )


@lru_cache
def load_directory(path: Path) -> OfficeDirectory:
    """Reads offices.yml once per path."""
    with path.open(encoding="utf-8") as handle:
        return parse_directory(yaml.safe_load(handle))
