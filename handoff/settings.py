"""Settings of the handoff domain (composed into service.settings.Settings)."""

from pydantic import BaseModel


class HandoffSettings(BaseModel):
    """Tunable values of the handoff domain."""
