"""Shared fixtures: every test gets its own migrated SQLite database file and app."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.app import create_app
from service.database import Database
from service.migrate import upgrade
from service.settings import Settings

CHROMIUM = "/usr/bin/chromium"
INTEGRATION_KEY = "integration-key-for-tests-0001"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test module.

    While Playwright's sync API is open it leaves the thread's event loop marked
    as running: a second sync_playwright() fails, and so does any asyncio test.
    Module scope closes it before the next module's tests run.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file brought to the newest schema by the real migrations, once per run."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path) -> str:
    """A fresh copy of the migrated database for one test."""
    path = tmp_path / "service.db"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings pointing at the test's database and at ports where nothing listens.

    Cookies drop the Secure flag: the test client speaks plain HTTP and would not send them back.
    Domain conftests derive theirs with ``settings.model_copy(update=...)``.
    """
    return Settings(
        database_url=database_url,
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9",
        rasa_token="rasa-token-for-tests-0001",
        internal_api_token="internal-token-for-tests-0001",
        secret_key="secret-key-for-tests-0001",
        integration_api_keys=[INTEGRATION_KEY],
        health_timeout_seconds=0.5,
        rasa_timeout_seconds=2.0,
        cookie_secure=False,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The service app for one test."""
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client for the app, with startup and shutdown run."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def internal_headers(settings: Settings) -> dict[str, str]:
    """Headers the action server sends to /internal/*."""
    return {"Authorization": f"Bearer {settings.internal_api_token}"}


@pytest.fixture
def db_session(database_url: str) -> Iterator[Session]:
    """A session on the test's database; committed when the test passes."""
    database = Database(database_url)
    with database.session() as session:
        yield session
    database.dispose()


# --- the running product, for end-to-end and browser tests -------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator["object"]:
    """Rasa, the action server and the service, started once on free ports with a temporary database."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "scripts"))
    import os

    from stack import Stack, StackConfig
    from train import train

    # TEST_MODEL points at an already trained model when iterating on tests alone.
    model = Path(os.environ["TEST_MODEL"]) if os.environ.get("TEST_MODEL") else train()
    var_dir = tmp_path_factory.mktemp("stack")
    # The service answers from (and the console edits) a copy of the knowledge base, never the repo's files.
    knowledge_dir = var_dir / "faq"
    shutil.copytree(root / "faq" / "entries", knowledge_dir / "entries")
    for name in ("catalogue.yml", "aspects.yml", "nlu_templates.yml"):
        shutil.copy(root / "faq" / name, knowledge_dir / name)
    config = StackConfig(
        var_dir=var_dir, model_path=model, service_port=_free_port(), rasa_port=_free_port(),
        actions_port=_free_port(), database_url=f"sqlite:///{var_dir / 'service.db'}",
        extra_env={
            "HANDOFF__DEMO_PASSWORD": "demo-pass-123",
            # Every simulated citizen comes from 127.0.0.1: lift the per-address message limit.
            "ATTEMPTS__MESSAGES_PER_ADDRESS": "1000000",
            # Agents on duty around the clock, so handoff tests do not depend on the hour.
            "HANDOFF__WORKING_DAYS": "everyday",
            "HANDOFF__WORKING_HOURS_START": "00:00",
            "HANDOFF__WORKING_HOURS_END": "24:00",
            # A Wednesday at 10:00 in Shanghai, so date expressions and capacity are deterministic.
            "APPOINTMENTS__FROZEN_CLOCK": "2026-11-18T10:00:00+08:00",
            "FAQ__KNOWLEDGE_DIR": str(knowledge_dir),
        },
    )
    stack = Stack(config, log_file=var_dir / "stack.log")
    env = stack.environment()
    python = str(root / ".venv" / "bin" / "python")
    subprocess.run([python, "-m", "service.migrate"], cwd=root, env=env, check=True)
    subprocess.run([python, "-m", "service.bootstrap"], cwd=root, env=env, check=True)
    stack.start()
    try:
        stack.wait_healthy(timeout=420)
    except Exception:
        stack.stop()
        print((var_dir / "stack.log").read_text(errors="replace")[-5000:])
        raise
    yield stack
    stack.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (the test script starts the server)."""
    import os
    import uuid

    from sqlalchemy import create_engine, text

    server_url = os.environ.get("TEST_POSTGRES_URL")
    if not server_url:
        pytest.skip("TEST_POSTGRES_URL is not set (make test starts a PostgreSQL server and sets it)")
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway Redis server on a loopback port for the test run (scripts/system_deps.sh installs it)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from redis_server import redis_available, start_redis, stop_redis

    if not redis_available():
        pytest.skip("redis-server is missing (make test installs it: scripts/system_deps.sh)")
    port = _free_port()
    process = start_redis(port, tmp_path_factory.mktemp("redis"))
    yield f"redis://127.0.0.1:{port}/0"
    stop_redis(process)
