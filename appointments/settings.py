"""Settings of the appointments domain (composed into service.settings.Settings)."""

from pydantic import BaseModel


class AppointmentSettings(BaseModel):
    """Tunable values of the appointments domain."""
