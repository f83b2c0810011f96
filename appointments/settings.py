"""Settings of the appointments domain (composed into service.settings.Settings)."""

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

PACKAGE_DIR = Path(__file__).resolve().parent


class AppointmentSettings(BaseModel):
    """Tunable values of the appointments domain."""

    # Halls, windows, opening hours, slot length, capacities, horizon, lead time.
    offices_path: Path = PACKAGE_DIR / "offices.yml"
    # Operator-maintained holidays and make-up workdays beyond (or correcting) chinesecalendar.
    calendar_overrides_path: Path = PACKAGE_DIR / "calendar_overrides.yml"
    # The FAQ service catalogue: names, aliases and materials to bring.
    catalogue_path: Path = PACKAGE_DIR.parent / "faq" / "catalogue.yml"
    # How many nearest free slots to offer when the asked one is unavailable.
    alternatives: int = 3
    # Pins the booking clock to a local time (demonstrations and end-to-end tests); None = real time.
    frozen_clock: datetime | None = None
