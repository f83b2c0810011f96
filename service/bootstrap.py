"""Prepares a fresh installation: demo accounts for the console (``python -m service.bootstrap``)."""

import importlib

from service.database import Database
from service.settings import VAR_DIR, get_settings


def main() -> None:
    """Runs each domain's bootstrap hook, if it has one."""
    database = Database(get_settings().database_url)
    notes: list[str] = []
    with database.session() as db_session:
        for module_name in ("handoff.flows",):
            module = importlib.import_module(module_name)
            ensure = getattr(module, "ensure_demo_accounts", None)
            if ensure is not None:
                result = ensure(db_session)
                if result:
                    notes.append(str(result))
    database.dispose()
    if notes:
        VAR_DIR.mkdir(exist_ok=True)
        (VAR_DIR / "demo_accounts.txt").write_text("\n".join(notes) + "\n")


if __name__ == "__main__":
    main()
