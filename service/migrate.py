"""Brings a database to the newest schema: ``python -m service.migrate [DATABASE_URL]``."""

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from service.settings import PROJECT_ROOT, VAR_DIR, get_settings


def upgrade(database_url: str | None = None) -> None:
    """Applies every migration head to the database."""
    url = database_url or get_settings().database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    VAR_DIR.mkdir(exist_ok=True)
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "service" / "migrations"))
    config.attributes["database_url"] = url
    # Each domain's migrations form their own branch from the baseline.
    command.upgrade(config, "heads")


if __name__ == "__main__":
    upgrade(sys.argv[1] if len(sys.argv) > 1 else None)
