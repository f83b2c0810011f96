"""Fixtures of the FAQ tests: a private copy of the knowledge base that a test may edit."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from faq.settings import FAQ_DIR, FaqSettings
from service.app import create_app
from service.settings import Settings


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    """A copy of the real knowledge base files in a temporary directory."""
    target = tmp_path / "faq"
    target.mkdir()
    shutil.copy(FAQ_DIR / "catalogue.yml", target / "catalogue.yml")
    shutil.copy(FAQ_DIR / "aspects.yml", target / "aspects.yml")
    shutil.copytree(FAQ_DIR / "entries", target / "entries")
    return target


@pytest.fixture
def faq_app(settings: Settings, faq_dir: Path) -> FastAPI:
    """An app answering from the private copy; files are re-read only on reload."""
    faq_settings = FaqSettings(knowledge_dir=faq_dir, reload_check_seconds=0,
                               operator_token="operator-token-for-tests-0001")
    return create_app(settings.model_copy(update={"faq": faq_settings}))


@pytest.fixture
def faq_client(faq_app: FastAPI) -> Iterator[TestClient]:
    """A client of the app answering from the private copy."""
    with TestClient(faq_app) as test_client:
        yield test_client


@pytest.fixture
def operator_headers() -> dict[str, str]:
    """Headers of an operator (faq_app's operator token)."""
    return {"Authorization": "Bearer operator-token-for-tests-0001"}


# --- the knowledge base console ------------------------------------------------------------------

@pytest.fixture
def retrain_command() -> list[str]:
    """The retraining job's command: a short real Python run (tests override it by parametrizing)."""
    import sys

    return [sys.executable, "-c", "import time; print('step one', flush=True); time.sleep(1.5); print('done')"]


@pytest.fixture
def retrain_timeout() -> float:
    """How long the retraining job may run in a test."""
    return 60.0


@pytest.fixture
def kb_settings(settings: Settings, faq_dir: Path, retrain_command: list[str], retrain_timeout: float) -> Settings:
    """Settings of a console app editing the private copy (plain-HTTP cookies, a short retraining command)."""
    faq_settings = FaqSettings(knowledge_dir=faq_dir, reload_check_seconds=0, retrain_command=retrain_command,
                               retrain_timeout_seconds=retrain_timeout)
    return settings.model_copy(update={"faq": faq_settings})


@pytest.fixture
def kb_app(kb_settings: Settings) -> FastAPI:
    """An app whose knowledge base console edits the private copy."""
    return create_app(kb_settings)


@pytest.fixture
def kb_client(kb_app: FastAPI) -> Iterator[TestClient]:
    """A client of the console app."""
    with TestClient(kb_app) as test_client:
        yield test_client
