"""scripts/wechat_menu.py creates the custom menu through the (simulated) WeChat API."""

import os
import subprocess
import sys
from pathlib import Path

from channels.wechat import menu

ROOT = Path(__file__).resolve().parents[3]
# The script reads the service's settings, which refuse to load without real secrets.
SECRETS = {"RASA_TOKEN": "menu-test-rasa-token-0001", "INTERNAL_API_TOKEN": "menu-test-internal-token-0001",
           "SECRET_KEY": "menu-test-secret-key-0001"}


def test_menu_script_creates_the_menu(platform, database_url):
    simulated, api_url = platform
    env = {**os.environ, **SECRETS, "DATABASE_URL": database_url, "WECHAT__APP_ID": simulated.app_id,
           "WECHAT__APP_SECRET": simulated.app_secret, "WECHAT__API_BASE_URL": api_url}
    completed = subprocess.run([sys.executable, str(ROOT / "scripts" / "wechat_menu.py")], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert simulated.menus == [menu.menu_definition()]
    keys = {b.get("key") for top in simulated.menus[0]["button"] for b in [top, *top.get("sub_button", [])]}
    assert {menu.BOOK, menu.COMPLAINT, menu.FAQ, menu.HUMAN} <= keys


def test_menu_script_reports_a_refusal(platform, database_url):
    simulated, api_url = platform
    env = {**os.environ, **SECRETS, "DATABASE_URL": database_url, "WECHAT__APP_ID": simulated.app_id,
           "WECHAT__APP_SECRET": "wrong-secret", "WECHAT__API_BASE_URL": api_url}
    completed = subprocess.run([sys.executable, str(ROOT / "scripts" / "wechat_menu.py")], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode != 0
    assert "40125" in completed.stderr
    assert simulated.menus == []
