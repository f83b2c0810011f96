"""The WeChat channel under test: the service in uvicorn, the WeChat platform simulator, a scripted bot."""

import asyncio
import base64
import os
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from channels.wechat.enums import EncryptionMode
from channels.wechat.settings import WeChatSettings
from channels.wechat.simulator import ScriptedRestBot, ServerThread, WeChatPlatform
from service.app import create_app
from service.database import Database
from service.settings import Settings

APP_ID = "wx1234567890abcdef"
APP_SECRET = "simulated-app-secret"
TOKEN = "simulated-callback-token"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")


@dataclass
class WeChatStack:
    """Everything a WeChat test talks to."""

    platform: WeChatPlatform
    bot: ScriptedRestBot
    service_url: str
    database: Database
    encrypted: bool
    app: FastAPI
    loop: dict[str, asyncio.AbstractEventLoop]

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 15.0) -> Any:
        """Runs a coroutine on the service's own event loop (e.g. an agent message through the router)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop["loop"]).result(timeout)

    def push_text(self, openid: str, content: str, **kwargs: object):  # type: ignore[no-untyped-def]
        """Sends a citizen's text through the simulator, in the stack's mode."""
        return self.platform.push(self.platform.text_fields(openid, content), encrypted=self.encrypted, **kwargs)

    def push_event(self, openid: str, event: str, key: str = "", create_time: int | None = None):  # type: ignore[no-untyped-def]
        """Sends an event through the simulator, in the stack's mode."""
        fields = self.platform.event_fields(openid, event, key, create_time)
        return self.platform.push(fields, encrypted=self.encrypted)


@pytest.fixture
def bot() -> Iterator[tuple[ScriptedRestBot, str]]:
    """A scripted bot speaking Rasa's REST webhook protocol."""
    scripted = ScriptedRestBot()
    with ServerThread(scripted.app) as server:
        yield scripted, server.url


@pytest.fixture
def platform() -> Iterator[tuple[WeChatPlatform, str]]:
    """The WeChat platform simulator with its REST API listening."""
    simulated = WeChatPlatform(token=TOKEN, app_id=APP_ID, app_secret=APP_SECRET, encoding_aes_key=AES_KEY)
    with ServerThread(simulated.api) as server:
        yield simulated, server.url


@pytest.fixture
def start_stack(settings: Settings, bot: tuple[ScriptedRestBot, str],
                platform: tuple[WeChatPlatform, str]) -> Iterator[Callable[..., WeChatStack]]:
    """Starts the service in uvicorn against the simulator, in the requested mode."""
    servers: list[ServerThread] = []

    def start(mode: EncryptionMode = EncryptionMode.plaintext, budget: float = 4.0) -> WeChatStack:
        wechat = WeChatSettings(token=TOKEN, app_id=APP_ID, app_secret=APP_SECRET, encoding_aes_key=AES_KEY,
                                mode=mode, api_base_url=platform[1], passive_reply_budget_seconds=budget,
                                max_body_bytes=16 * 1024)
        service_settings = settings.model_copy(update={"rasa_url": bot[1], "wechat": wechat,
                                                       "rasa_timeout_seconds": 30.0})
        app = create_app(service_settings)
        loop: dict[str, asyncio.AbstractEventLoop] = {}

        async def capture_loop(_app: FastAPI) -> None:
            loop["loop"] = asyncio.get_running_loop()

        app.state.startup_tasks.append(capture_loop)
        server = ServerThread(app).__enter__()
        servers.append(server)
        platform[0].callback_url = f"{server.url}/wechat/callback"
        return WeChatStack(platform=platform[0], bot=bot[0], service_url=server.url,
                           database=Database(settings.database_url), encrypted=mode == EncryptionMode.safe,
                           app=app, loop=loop)

    yield start
    for server in servers:
        server.__exit__(None, None, None)
