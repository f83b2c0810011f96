"""Creates a console account: ``python scripts/create_agent.py USERNAME --name 张三 [--role supervisor]``.

The password is read from the terminal (or from the environment variable named
by ``--password-env``), never from the command line where other users could see it.
``--demo`` creates the demo agent and supervisor instead and prints their passwords.
"""

import argparse
import getpass
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from staff.auth import hash_password  # noqa: E402

from handoff import service as handoff_service  # noqa: E402
from handoff.flows import ensure_demo_accounts  # noqa: E402
from service.database import Database  # noqa: E402
from service.errors import ServiceError  # noqa: E402
from service.settings import get_settings  # noqa: E402
from staff.enums import StaffRole  # noqa: E402
from staff.models import StaffMemberCreate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Parses the arguments and creates the account(s)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username", nargs="?")
    parser.add_argument("--name", help="display name shown to citizens")
    parser.add_argument("--role", choices=[r.value for r in StaffRole], default=StaffRole.agent.value)
    parser.add_argument("--max-chats", type=int, default=None)
    parser.add_argument("--password-env", help="read the password from this environment variable")
    parser.add_argument("--demo", action="store_true", help="create the demo agent and supervisor")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    settings = get_settings()
    database = Database(args.database_url or settings.database_url)
    try:
        if args.demo:
            with database.session() as db_session:
                created = ensure_demo_accounts(db_session, settings.handoff)
            for username, password in created.items():
                print(f"{username}\t{password}")
            if not created:
                print("demo accounts already exist")
            return 0
        if not args.username:
            parser.error("username is required (or --demo)")
        password = os.environ.get(args.password_env, "") if args.password_env else getpass.getpass("password: ")
        account = StaffMemberCreate(username=args.username, display_name=args.name or args.username, password=password,
                              role=StaffRole(args.role), max_chats=args.max_chats or settings.handoff.default_max_chats)
        with database.session() as db_session:
            agent = handoff_service.create_agent(
                db_session=db_session, username=account.username, display_name=account.display_name,
                password_hash=hash_password(account.password), role=account.role, max_chats=account.max_chats)
            print(f"created {agent.role} {agent.username} (id {agent.id})")
        return 0
    except (ServiceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        database.dispose()


if __name__ == "__main__":
    sys.exit(main())
