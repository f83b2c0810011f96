"""Settings of the complaints domain (composed into service.settings.Settings)."""

from pydantic import BaseModel


class ComplaintSettings(BaseModel):
    """Tunable values of the complaints domain."""
