"""The service's one settings object, read from the environment and `.env`.

Each domain keeps its own settings model next to its code; this class composes
them so every value still comes from one place. Nested values are set with a
double underscore, e.g. ``WECHAT__TOKEN=...`` or ``APPOINTMENTS__SLOT_MINUTES=20``.
"""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from appointments.settings import AppointmentSettings
from channels.web.settings import WebSettings
from channels.wechat.settings import WeChatSettings
from complaints.settings import ComplaintSettings
from faq.settings import FaqSettings
from handoff.settings import HandoffSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """Runtime configuration of the service process."""

    model_config = SettingsConfigDict(
        env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    database_url: str = f"sqlite:///{VAR_DIR / 'service.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = "change-me-rasa-token"
    action_server_url: str = "http://127.0.0.1:5055"
    # Shared secret the action server presents on /internal/* calls.
    internal_api_token: str = "change-me-internal-token"
    # Signs agent-console session cookies.
    secret_key: str = "change-me-secret-key"
    public_url: str = "http://127.0.0.1:8000"

    max_message_chars: int = Field(default=1000, ge=1)
    max_request_bytes: int = Field(default=64 * 1024, ge=1024)
    rasa_timeout_seconds: float = Field(default=20.0, gt=0)
    health_timeout_seconds: float = Field(default=2.0, gt=0)
    timezone: str = "Asia/Shanghai"

    faq: FaqSettings = FaqSettings()
    appointments: AppointmentSettings = AppointmentSettings()
    complaints: ComplaintSettings = ComplaintSettings()
    handoff: HandoffSettings = HandoffSettings()
    wechat: WeChatSettings = WeChatSettings()
    web: WebSettings = WebSettings()


@lru_cache
def get_settings() -> Settings:
    """Returns the process-wide settings, read once."""
    return Settings()
