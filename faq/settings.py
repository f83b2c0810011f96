"""Settings of the faq domain (composed into service.settings.Settings)."""

from pydantic import BaseModel


class FaqSettings(BaseModel):
    """Tunable values of the faq domain."""
