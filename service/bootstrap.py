"""Prepares a fresh installation: demo accounts for the console (``python -m service.bootstrap``)."""

from pathlib import Path

from handoff.flows import ensure_demo_accounts
from service.database import Database
from service.settings import VAR_DIR, get_settings


def main() -> None:
    """Creates the demo console accounts on a fresh database."""
    settings = get_settings()
    database = Database(settings.database_url)
    with database.session() as db_session:
        created = ensure_demo_accounts(db_session, settings.handoff)
    database.dispose()
    if created:
        # Passwords are shown once, on the run that created the accounts, and kept under var/.
        folder = VAR_DIR
        if settings.database_url.startswith("sqlite:///"):
            folder = Path(settings.database_url.removeprefix("sqlite:///")).parent
        folder.mkdir(parents=True, exist_ok=True)
        accounts = ", ".join(f"{username} / {password}" for username, password in created.items())
        (folder / "demo_accounts.txt").write_text(accounts + "\n")


if __name__ == "__main__":
    main()
