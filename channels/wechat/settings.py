"""Settings of the WeChat Official Account channel (composed into service.settings.Settings)."""

from pydantic import BaseModel


class WeChatSettings(BaseModel):
    """Credentials and endpoints of the WeChat channel; secrets come from the environment only."""
