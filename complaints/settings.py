"""Settings of the complaints domain (composed into service.settings.Settings)."""

from typing import Literal

from pydantic import BaseModel, Field


class DeadlineRule(BaseModel):
    """How long staff have for one step of the service standard."""

    minutes: int = Field(ge=1)
    # Calendar time counts every minute; the service standard is stated in calendar hours.
    clock: Literal["calendar"] = "calendar"


class ComplaintSettings(BaseModel):
    """Tunable values of the complaints domain."""

    first_response: DeadlineRule = DeadlineRule(minutes=30)
    plan: DeadlineRule = DeadlineRule(minutes=48 * 60)
    due_soon_minutes: int = Field(default=10, ge=1)
    repeat_window_days: int = Field(default=30, ge=1)
    description_min_chars: int = Field(default=5, ge=1)
    description_max_chars: int = Field(default=2000, ge=10)
    staff_text_max_chars: int = Field(default=2000, ge=10)
    # Failed status lookups allowed per ticket number and per requester within the window.
    lookup_max_failures: int = Field(default=5, ge=1)
    lookup_window_minutes: int = Field(default=60, ge=1)
    # Keys that may submit through Open311 GeoReport v2 (and read descriptions).
    open311_api_keys: list[str] = []
    open311_max_results: int = Field(default=1000, ge=1)
    open311_default_days: int = Field(default=90, ge=1)
    # A follow-up call (回访) comes due this long after a resolution is recorded (citizens who left a mobile).
    follow_up_after_minutes: int = Field(default=24 * 60, ge=1)
    # A citizen not reached is called again after this long, up to follow_up_attempts calls in all.
    follow_up_retry_minutes: int = Field(default=4 * 60, ge=1)
    follow_up_attempts: int = Field(default=2, ge=1, le=10)
    # How often each instance looks for tickets that just went past a deadline (each is announced once).
    overdue_check_seconds: float = Field(default=10.0, ge=0.05, le=3600)
    # How often the console's SLA clocks are redrawn in the page.
    console_tick_seconds: int = Field(default=30, ge=1, le=600)
