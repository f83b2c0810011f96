"""Settings of the handoff domain (composed into service.settings.Settings)."""

import re

from pydantic import BaseModel, Field, field_validator

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


class HandoffSettings(BaseModel):
    """Tunable values of the handoff domain."""

    # Agent working hours, local time (settings.timezone); "24:00" ends at midnight.
    working_hours_start: str = "09:00"
    working_hours_end: str = "18:00"
    # "workdays" follows the Chinese public-holiday calendar (make-up workdays included); "everyday" ignores it.
    working_days: str = Field(default="workdays", pattern=r"^(workdays|everyday)$")
    default_max_chats: int = Field(default=3, ge=1, le=20)
    # Used for the citizen's estimated wait: minutes one agent spends per conversation.
    average_handle_minutes: float = Field(default=6.0, gt=0)
    # An unclaimed ticket alerts the agents again after this many seconds.
    realert_after_seconds: int = Field(default=120, ge=5)
    realert_check_seconds: float = Field(default=10.0, gt=0)
    # An agent counts as online while the console has been seen within this window.
    presence_timeout_seconds: int = Field(default=90, ge=10)
    session_hours: int = Field(default=12, ge=1, le=24 * 14)
    transcript_turns: int = Field(default=30, ge=1, le=200)
    history_rows: int = Field(default=5, ge=0, le=50)
    # Citizen words that end the wait and hand the conversation back to the bot.
    cancel_words: list[str] = ["不用了", "取消", "算了", "不需要了", "不用等了", "取消排队"]
    # Demo accounts created by the run script; empty password = a random one printed on start.
    demo_agent_username: str = "agent1"
    demo_supervisor_username: str = "supervisor1"
    demo_operator_username: str = "operator1"
    demo_password: str = ""

    @field_validator("working_hours_start", "working_hours_end")
    @classmethod
    def _clock(cls, value: str) -> str:
        match = _CLOCK.match(value)
        if not match or (match.group(1) == "24" and match.group(2) != "00"):
            raise ValueError("working hours must look like HH:MM (00:00-24:00)")
        return value
