"""The service's one settings object, read from the environment and `.env`.

Each domain keeps its own settings model next to its code; this class composes
them so every value still comes from one place. Nested values are set with a
double underscore, e.g. ``WECHAT__TOKEN=...`` or ``APPOINTMENTS__SLOT_MINUTES=20``.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from appointments.settings import AppointmentSettings
from channels.web.settings import WebSettings
from channels.wechat.settings import WeChatSettings
from complaints.settings import ComplaintSettings
from faq.settings import FaqSettings
from handoff.settings import HandoffSettings
from service.attempts import AttemptSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """Runtime configuration of the service process."""

    model_config = SettingsConfigDict(
        env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    # "production" turns on what a deployment behind HTTPS needs (Secure cookies); `make run` says "development".
    environment: Literal["production", "development"] = "production"
    database_url: str = f"sqlite:///{VAR_DIR / 'service.db'}"
    # Connections per instance on PostgreSQL: 2 service + 2 Rasa instances use at most 2*15 + 2*10.
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=5, ge=0)
    # One Rasa instance, or several separated by commas: each conversation goes to one by a hash of its id.
    rasa_url: str = "http://127.0.0.1:5005"
    # Redis for live events between service instances (redis://host:port/db); None: one instance, in process.
    redis_url: str | None = None
    # Secrets have no defaults: start-up refuses empty and placeholder values (see service.secrets).
    rasa_token: str = ""
    action_server_url: str = "http://127.0.0.1:5055"
    # Shared secret the action server presents on /internal/* calls.
    internal_api_token: str = ""
    # Signs console session cookies and citizens' conversation access tokens.
    secret_key: str = ""
    # Keys of integrations allowed to open conversations over the REST API (X-API-Key header).
    integration_api_keys: list[str] = []
    # Cookies carry the Secure flag; None = on in production, off in development.
    cookie_secure: bool | None = None
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
    attempts: AttemptSettings = AttemptSettings()

    @model_validator(mode="after")
    def _no_default_secrets(self) -> Self:
        from service.secrets import check_secrets

        check_secrets(self)
        return self

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get the Secure flag."""
        return self.environment == "production" if self.cookie_secure is None else self.cookie_secure


@lru_cache
def get_settings() -> Settings:
    """Returns the process-wide settings, read once."""
    return Settings()
