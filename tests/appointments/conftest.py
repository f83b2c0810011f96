"""Appointment fixtures: a small catalogue file, a fixed clock, a booking helper and console sign-in."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from appointments.schedule import AppointmentRules
from appointments.settings import AppointmentSettings
from service.settings import Settings
from staff.enums import StaffRole
from tests.handoff.conftest import add_agent, sign_in

CATALOGUE = """
services:
  passport:
    name: 普通护照
    aliases: [护照, 办护照]
    materials: ["本人居民身份证", "现场免费拍照"]
    bookable: true
  id_card:
    name: 居民身份证申领、换领
    aliases: [身份证]
    materials: ["户口簿"]
    bookable: true
  hukou:
    name: 户口迁移与落户
    materials: []
    bookable: true
"""

# A Wednesday morning; tests that need holidays move the clock themselves.
FIXED_NOW = datetime(2026, 11, 18, 10, 0)


@pytest.fixture
def catalogue_path(tmp_path: Path) -> Path:
    """A catalogue file with a few services."""
    path = tmp_path / "catalogue.yml"
    path.write_text(CATALOGUE, encoding="utf-8")
    return path


@pytest.fixture
def settings(settings: Settings, catalogue_path: Path) -> Settings:
    """The shared test settings, with the appointment catalogue pointed at the test file."""
    return settings.model_copy(update={"appointments": AppointmentSettings(catalogue_path=catalogue_path)})


@pytest.fixture
def rules(settings: Settings) -> AppointmentRules:
    """The booking rules from the real offices.yml and calendar overrides."""
    return AppointmentRules.from_settings(settings.appointments, settings.timezone)


@pytest.fixture
def set_clock(app: FastAPI) -> Callable[[datetime], None]:
    """Sets the app's clock to a fixed local time."""

    def set_to(moment: datetime) -> None:
        app.state.appointment_clock = lambda: moment

    set_to(FIXED_NOW)
    return set_to


def booking_body(**overrides: object) -> dict:
    """A valid booking request for passport on Thu 2026-11-19 at 10:00."""
    body = {"service_id": "passport", "day": "2026-11-19", "start": "10:00", "name": "张三",
            "mobile": "13800138000"}
    body.update(overrides)
    return body


@pytest.fixture
def sign_in_as(client: TestClient, db_session: Session) -> Callable[..., str]:
    """Signs the client in to the console with a new account of a role; returns the session's CSRF token."""

    def signed_in(role: StaffRole = StaffRole.agent, username: str | None = None) -> str:
        username = username or f"{role.value}-desk"
        add_agent(db_session, username, role=role)
        return sign_in(client, username)

    return signed_in
