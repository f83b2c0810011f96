"""Creates the Official Account's custom menu (办事服务 / 常见问题 / 转人工) through cgi-bin/menu/create.

Reads WECHAT__APP_ID, WECHAT__APP_SECRET and WECHAT__API_BASE_URL from the
environment like the service. ``--print`` shows the menu body without calling WeChat.
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from channels.wechat.access_token import AccessTokenStore, WeChatApiError  # noqa: E402
from channels.wechat.customer_service import WeChatApi  # noqa: E402
from channels.wechat.menu import menu_definition  # noqa: E402
from service.database import Database  # noqa: E402
from service.settings import get_settings  # noqa: E402


async def create_menu() -> None:
    """Fetches (or reuses) the shared access_token and replaces the menu."""
    settings = get_settings()
    wechat = settings.wechat
    if not (wechat.app_id and wechat.app_secret):
        raise SystemExit("set WECHAT__APP_ID and WECHAT__APP_SECRET first")
    database = Database(settings.database_url)
    async with httpx.AsyncClient(base_url=wechat.api_base_url.rstrip("/"), timeout=wechat.api_timeout_seconds) as http:
        api = WeChatApi(http=http, tokens=AccessTokenStore(settings=wechat, database=database, http=http))
        try:
            await api.create_menu(menu_definition())
        except WeChatApiError as exc:
            raise SystemExit(f"WeChat refused the menu: {exc}") from exc
        finally:
            database.dispose()
    print(f"menu created for {wechat.app_id} at {wechat.api_base_url}")


def main() -> None:
    """Parses arguments and creates or prints the menu."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--print", action="store_true", help="print the menu JSON and exit")
    args = parser.parse_args()
    if args.print:
        print(json.dumps(menu_definition(), ensure_ascii=False, indent=2))
        return
    asyncio.run(create_menu())


if __name__ == "__main__":
    main()
